/**
 * One fs.watch of a script: a file or a folder (recursively) turned into a queue of
 * `{type = "created"|"modified"|"deleted", path}` events the script takes one at a time.
 * The OS says "something changed at this name"; whether it was created, modified or
 * deleted is decided by comparing with what existed before.
 */
import fs from "node:fs";
import fsp from "node:fs/promises";
import path from "node:path";
import { TEMP_MARK } from "./show-files.ts";

export interface FsEvent {
  type: "created" | "modified" | "deleted";
  /** Show-relative path of the file that changed. */
  path: string;
}

export interface FileWatcherOptions {
  /** Absolute path of the file or folder watched. */
  abs: string;
  /** Its show-relative path. */
  rel: string;
  /** Whether an event for this show-relative path may reach the script. */
  visible: (rel: string) => boolean;
}

const MAX_QUEUED = 10_000;

export class FileWatcher {
  private readonly queue: FsEvent[] = [];
  private readonly waiting: ((e: FsEvent | null) => void)[] = [];
  private readonly known = new Set<string>();
  private watcher: fs.FSWatcher | null = null;
  private chain: Promise<void> = Promise.resolve();
  private closed = false;
  /** Folder the OS watch sits on, and (for a file watch) the one name in it that matters. */
  private dirAbs = "";
  private only: string | null = null;

  constructor(private readonly opts: FileWatcherOptions) {}

  /** Starts watching; resolves once changes from now on are seen. */
  async start(): Promise<void> {
    const { abs } = this.opts;
    const st = await fsp.stat(abs).catch(() => null);
    if (st?.isDirectory()) {
      this.dirAbs = abs;
      for (const name of await fsp.readdir(abs, { recursive: true })) {
        const full = path.join(abs, name);
        if ((await fsp.stat(full).catch(() => null))?.isFile()) this.known.add(full);
      }
      this.watcher = watchDir(abs, true, (name) => this.onRaw(name));
    } else {
      // A file (which may not exist yet): watch its folder, so replace-by-rename is seen too.
      this.dirAbs = path.dirname(abs);
      this.only = path.basename(abs);
      if (st?.isFile()) this.known.add(abs);
      this.watcher = watchDir(this.dirAbs, false, (name) => this.onRaw(name));
    }
  }

  /** The next event, or null once the watcher is closed. */
  next(): Promise<FsEvent | null> {
    const e = this.queue.shift();
    if (e) return Promise.resolve(e);
    if (this.closed) return Promise.resolve(null);
    return new Promise((resolve) => this.waiting.push(resolve));
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.watcher?.close();
    for (const w of this.waiting.splice(0)) w(null);
  }

  private onRaw(name: string | null): void {
    if (this.closed || name === null) return;
    if (this.only !== null && name !== this.only) return;
    if (path.basename(name).startsWith(TEMP_MARK)) return;
    const full = path.join(this.dirAbs, name);
    this.chain = this.chain.then(() => this.classify(full));
  }

  private async classify(full: string): Promise<void> {
    const st = await fsp.stat(full).catch(() => null);
    const was = this.known.has(full);
    let type: FsEvent["type"];
    if (st?.isFile()) {
      type = was ? "modified" : "created";
      this.known.add(full);
    } else if (st === null && was) {
      type = "deleted";
      this.known.delete(full);
    } else {
      return;
    }
    const relInside = path.relative(this.dirAbs, full).split(path.sep).join("/");
    const base = this.only === null ? this.opts.rel : this.opts.rel.split("/").slice(0, -1).join("/");
    const rel = [base, relInside].filter((s) => s !== "").join("/");
    if (!this.opts.visible(rel)) return;
    this.push({ type, path: rel });
  }

  private push(e: FsEvent): void {
    if (this.closed) return;
    const w = this.waiting.shift();
    if (w) return w(e);
    const last = this.queue[this.queue.length - 1];
    // The OS reports one write as several changes; queued duplicates say nothing new.
    if (last && last.type === e.type && last.path === e.path) return;
    if (this.queue.length >= MAX_QUEUED) this.queue.shift();
    this.queue.push(e);
  }
}

function watchDir(dir: string, recursive: boolean, onName: (name: string | null) => void): fs.FSWatcher {
  const listener = (_event: string, name: string | Buffer | null): void => onName(name === null ? null : String(name));
  try {
    return fs.watch(dir, { recursive, persistent: false }, listener);
  } catch (e) {
    if (recursive && (e as NodeJS.ErrnoException).code === "ERR_FEATURE_UNAVAILABLE_ON_PLATFORM") {
      return fs.watch(dir, { persistent: false }, listener);
    }
    throw e;
  }
}
