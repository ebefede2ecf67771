/**
 * The `fs` module of one run: fs.read, fs.write, fs.watch (watcher:next(), watcher:close()),
 * each installed only when the run declares some capability of its kind and checked again on
 * every call. The Lua face of watchers is fs.lua.
 */
import { existsSync, readFileSync } from "node:fs";
import { InvalidOperation } from "../../crdt/vocabulary.ts";
import type { HostBinding, HostValue } from "../engine/index.ts";
import { FileWatcher } from "./file-watcher.ts";
import type { FileWatcherOptions, FsSeams, Watcher } from "./file-watcher.ts";
import { ShowFiles } from "./show-files.ts";
import type { ShowFilesOptions } from "./show-files.ts";

const PRELUDE = readFileSync(new URL("./fs.lua", import.meta.url), "utf8");

export interface FsApiOptions extends ShowFilesOptions {
  /** Aborted when the run ends: every watcher is closed then. */
  signal?: AbortSignal;
  /** Watchers one run may hold open at once (default 32). */
  maxWatchers?: number;
  /** Simulated file changes (openprod test); absent: the disk, watched by chokidar. */
  seams?: FsSeams;
}

export interface FsApi {
  /** Empty when the run declares no fs.* capability: then there is no `fs` global at all. */
  bindings: Record<string, HostBinding>;
  /** A self-contained do-block: safe to concatenate with other preludes. */
  preludeLua: string;
  /** The checked file access, shared with native capabilities. */
  files: ShowFiles;
  /** Closes every watcher (also done when `signal` aborts). */
  close(): void;
}

export function createFsApi(opts: FsApiOptions): FsApi {
  const files = new ShowFiles(opts);
  const caps = files.capabilities();
  const watchers = new Map<number, { w: Watcher; path: string }>();
  const watch = opts.seams?.watch ?? ((o: FileWatcherOptions): Watcher => new FileWatcher(o));
  const written = opts.seams?.written;
  let nextId = 1;
  const close = (): void => {
    for (const { w } of watchers.values()) w.close();
    watchers.clear();
  };
  opts.signal?.addEventListener("abort", close, { once: true });

  const bindings: Record<string, HostBinding> = {};
  if (caps.has("fs.read")) {
    bindings["fs.read"] = { kind: "async", fn: async (args) => files.readText(args[0]) };
  }
  if (caps.has("fs.write")) {
    bindings["fs.write"] = {
      kind: "async",
      fn: async (args) => {
        if (!written) {
          await files.writeText(args[0], args[1]);
          return null;
        }
        const { abs, rel } = await files.check("write", args[0]);
        const existed = existsSync(abs);
        await files.writeText(args[0], args[1]);
        written({ type: existed ? "modified" : "created", path: rel });
        return null;
      },
    };
  }
  if (caps.has("fs.watch")) {
    bindings["__fs.watch"] = {
      kind: "sync",
      fn: async (args) => {
        const { abs, rel } = await files.check("watch", args[0]);
        const max = opts.maxWatchers ?? 32;
        if (watchers.size >= max) throw new InvalidOperation(`fs.watch("${rel}"): this run already has ${max} watchers open; close one with watcher:close()`, { path: rel });
        const c = files.capabilities();
        // Watching a granted file or folder shows everything in it; a folder granted only
        // through globs inside it shows just the files those globs match.
        const whole = rel !== "" && c.capabilities.some((k) => k.kind === "fs.watch" && k.matcher.test(rel));
        const w = watch({ abs, rel, visible: (p) => whole || c.fsAllowed("watch", p) });
        await w.start();
        const id = nextId++;
        watchers.set(id, { w, path: args[0] as string });
        return id;
      },
    };
    bindings["__fs.next"] = {
      kind: "async",
      fn: async (args) => {
        const entry = watchers.get(Number(args[0]));
        if (!entry) return null;
        const e = await entry.w.next();
        if (e === null) return null;
        // Revoked while waiting: the run ends at this call like any other.
        await files.check("watch", entry.path);
        files.record({ kind: "fs.watch", data: { ...e } });
        return { ...e } as HostValue;
      },
    };
    bindings["__fs.close"] = {
      kind: "sync",
      fn: (args) => {
        const id = Number(args[0]);
        watchers.get(id)?.w.close();
        watchers.delete(id);
        return null;
      },
    };
  }
  return { bindings, preludeLua: Object.keys(bindings).length === 0 ? "" : PRELUDE, files, close };
}
