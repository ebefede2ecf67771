/**
 * Watches a show directory while the daemon runs, whatever way an editor saves
 * (in place, write-temp-then-rename, delete-and-recreate; folders added or
 * removed): chokidar follows a file across renames, where a bare fs.watch
 * loses it after the first replace.
 *
 * - An edited script is used by the next run as it is on disk; one that does
 *   not parse is reported (file:line:col) and its runs are refused until it is
 *   fixed, while a running background script keeps its version.
 * - A library file (`modules/<m>/exports/*.lua`, `workspace/modules/*.lua`) that
 *   does not parse is reported when saved.
 * - openprod.toml, a module.toml, or a module folder added or removed: the whole
 *   show is reloaded and checked (script sections, capabilities, and every
 *   follower such as the triggers, which re-run the cycle check). Any refusal
 *   keeps the previous configuration in force and says why. A change that needs
 *   a different workspace schema is refused with what it would change.
 *   Capabilities that disappear are revoked from running scripts.
 */
import { readFile, readdir, stat } from "node:fs/promises";
import path from "node:path";
import { watch } from "chokidar";
import type { FSWatcher } from "chokidar";
import { loadShow } from "../config/index.ts";
import type { ShowConfig } from "../config/index.ts";
import { ConfigError } from "../crdt/vocabulary.ts";
import { CapabilitySet } from "../scripts/capabilities/index.ts";
import { showCapabilities, showScripts } from "../scripts/runtime/index.ts";
import type { ScriptCatalog, ScriptRuntime } from "../scripts/runtime/index.ts";
import type { SyntaxProblem } from "../scripts/engine/index.ts";
import { TEMP_MARK } from "../scripts/fs/index.ts";
import { schemaDifference } from "./schema-difference.ts";

export type ShowChange =
  | { type: "show.reloaded"; file: string; scripts: string[] }
  | { type: "show.removed"; file: string; scripts: string[] }
  | { type: "show.invalid"; file: string; line: number | null; column: number | null; reason: string };

/** The configuration in force: what `scripts.list`, runs and triggers use now. */
export interface ShowState {
  show: ShowConfig;
  scripts: ScriptCatalog;
  /** Every configured script's capabilities, by id. */
  capabilities: Map<string, CapabilitySet>;
}

/** A part that follows the show's configuration (the triggers). */
export interface ShowFollower {
  /**
   * Checks a new configuration before anything uses it. Throws (a ConfigError naming the
   * file and line) to refuse it; otherwise returns what makes it take effect, called only
   * when every follower accepted.
   */
  prepare(next: ShowState, previous: ShowState): Promise<() => void>;
}

export interface ShowWatcherOptions {
  show: ShowConfig;
  runtime: ScriptRuntime;
  checkSyntax: (source: string, chunkName: string) => Promise<SyntaxProblem | null>;
  /** Told about every reload and every refused edit. */
  report: (change: ShowChange) => void;
  /** Script files are read through this (default: the file system). */
  readFile?: (file: string) => Promise<string>;
  /** Milliseconds to wait for an editor's burst of writes to settle (default 100, at least 60). */
  settleMs?: number;
  /** Milliseconds between the sweeps that catch what the file system's events missed (default 1000). */
  sweepMs?: number;
}

export interface ShowWatcher {
  /** The configuration in force now. */
  current(): ShowState;
  /** Adds a follower; it is asked about every later configuration change. */
  follow(follower: ShowFollower): void;
  /** Handle one show-relative path now, or wait for the changes already seen. */
  rescan(changed?: string): Promise<void>;
  close(): Promise<void>;
}

/** What the watcher looks at: the config file and the two folders scripts live in. */
const WATCHED_TOP = new Set(["openprod.toml", "workspace", "modules"]);
const CONFIG = "config";
/**
 * chokidar drops a second `change` of a path within 50 ms of the first (no trailing event).
 * Handling a path no sooner than this after its last event means that dropped write has
 * landed by the time the file is read.
 */
const MIN_SETTLE_MS = 60;

export function showState(show: ShowConfig, read: (file: string) => Promise<string> = (f) => readFile(f, "utf8")): ShowState {
  // Building the catalog validates every [script.*] section (throws ConfigError).
  // This watcher tells the runtime about every script edit: the catalog may keep sources.
  const scripts = showScripts({ root: show.dir.root, config: show.config, modules: show.modules, readFile: read, watched: true });
  const caps = showCapabilities(show);
  if (caps.errors.length > 0) throw caps.errors[0];
  return { show, scripts, capabilities: caps.capabilities };
}

export async function watchShow(opts: ShowWatcherOptions): Promise<ShowWatcher> {
  const root = opts.show.dir.root;
  const read = opts.readFile ?? ((f: string) => readFile(f, "utf8"));
  // At start a capability mistake is the triggers service's to report (all of them, and the
  // daemon refuses to start); later, any mistake refuses the edit.
  let state: ShowState = {
    show: opts.show,
    scripts: showScripts({ root, config: opts.show.config, modules: opts.show.modules, readFile: read, watched: true }),
    capabilities: showCapabilities(opts.show).capabilities,
  };
  const followers: ShowFollower[] = [];

  const refuse = (rel: string, e: unknown, keeps: string): void => {
    const details = (e as { details?: { file?: string; line?: number; column?: number } }).details ?? {};
    opts.report({
      type: "show.invalid",
      file: details.file ? path.relative(root, details.file) || rel : rel,
      line: details.line ?? null,
      column: details.column ?? null,
      reason: `${(e as Error).message}; ${keeps}`,
    });
  };

  const onScript = async (rel: string, id: string): Promise<void> => {
    const slash = id.indexOf("/");
    // A script of a module not loaded (yet): the module's own reload covers it.
    if (slash > 0 && !state.show.modules.some((m) => m.name === id.slice(0, slash))) return;
    const exists = await read(path.join(root, rel)).then(
      () => true,
      () => false,
    );
    try {
      const r = await opts.runtime.fileChanged(id);
      if (r.ok) opts.report({ type: "show.reloaded", file: rel, scripts: [id] });
      else {
        const p = r.problem;
        const running = opts.runtime.backgroundStatus().some((b) => b.id === id && b.state === "running");
        const keeps = running ? "the background script keeps running its previous version; runs of it are refused until the file is fixed" : "runs of it are refused until the file is fixed";
        opts.report({ type: "show.invalid", file: rel, line: p.line, column: p.column, reason: `${p.message}; ${keeps}` });
      }
    } catch (e) {
      // No file any more (deleted, or its folder removed): later runs say so themselves.
      if (!exists) opts.report({ type: "show.removed", file: rel, scripts: [id] });
      else refuse(rel, e, "the script cannot run until this is fixed");
    }
  };

  const onLibrary = async (rel: string): Promise<void> => {
    const source = await read(path.join(root, rel)).catch(() => null);
    if (source === null) return;
    const problem = await opts.checkSyntax(source, rel);
    if (problem) {
      opts.report({ type: "show.invalid", file: rel, line: problem.line, column: problem.column, reason: `${problem.message}; scripts that require it fail until it is fixed` });
    } else opts.report({ type: "show.reloaded", file: rel, scripts: [] });
  };

  const onConfig = async (rel: string): Promise<void> => {
    const keeps = "the previous configuration stays in force";
    let next: ShowState;
    const appliers: (() => void)[] = [];
    try {
      const show = await loadShow(root);
      const change = schemaDifference(state.show.schema, show.schema);
      if (change !== null) {
        throw new ConfigError(
          `the module change ${change}: the workspace schema cannot change while the daemon runs (the store resolves every field against the schema it opened with); restart the daemon to use it`,
          { file: path.join(root, rel), schemaChange: change },
        );
      }
      next = showState(show, read);
      for (const f of followers) appliers.push(await f.prepare(next, state));
    } catch (e) {
      refuse(rel, e, keeps);
      return;
    }
    // Whatever a script held before and no longer does is revoked from its running runs.
    for (const [id, before] of state.capabilities) {
      const after = new Set(next.capabilities.get(id)?.toStrings() ?? []);
      for (const cap of before.toStrings()) if (!after.has(cap)) opts.runtime.revokeCapability(id, cap);
    }
    state = next;
    const caps = next.capabilities;
    opts.runtime.updateShow({ scripts: next.scripts, capabilities: (s) => caps.get(s.id) ?? CapabilitySet.none });
    for (const apply of appliers) apply();
    opts.report({ type: "show.reloaded", file: rel, scripts: [...caps.keys()].sort() });
  };

  const handle = async (key: string, rel: string): Promise<void> => {
    // What the file is now is what this handling sees: the sweep below need not report it again.
    sweeper.saw(rel, await fileSignature(path.join(root, rel)));
    if (key === CONFIG) return onConfig(rel);
    const id = scriptIdOf(rel);
    if (id !== null) return onScript(rel, id);
    if (isLibrary(rel)) return onLibrary(rel);
    return Promise.resolve();
  };
  // One change at a time, in order: each handler reads the files as they are when it runs, so
  // the last one to run applies the latest state; two reloads overlapping could apply a stale one.
  let queue: Promise<void> = Promise.resolve();
  const enqueue = (key: string, rel: string): Promise<void> => {
    queue = queue.then(() => handle(key, rel)).catch(() => undefined);
    return queue;
  };
  const pending = new Map<string, NodeJS.Timeout>();
  const schedule = (rel: string): void => {
    // Every config file feeds one reload: a burst over several of them settles into one.
    const key = isConfig(rel) ? CONFIG : rel;
    clearTimeout(pending.get(key));
    pending.set(
      key,
      setTimeout(() => {
        pending.delete(key);
        void enqueue(key, rel);
      }, Math.max(opts.settleMs ?? 100, MIN_SETTLE_MS)),
    );
  };

  // chokidar has been seen to miss a replace-by-rename after the folder itself was removed and
  // made again (no event at all, on Linux): a periodic comparison of every watched file's size
  // and mtime catches whatever it misses, within SWEEP_MS.
  const sweeper = createSweeper(root, schedule);
  await sweeper.sweep(false);
  const watcher: FSWatcher = watch(root, {
    ignoreInitial: true,
    ignored: (abs: string) => ignored(path.relative(root, abs)),
  });
  watcher.on("all", (_event, abs) => {
    const rel = path.relative(root, abs).split(path.sep).join("/");
    if (rel !== "" && !ignored(rel)) schedule(rel);
  });
  watcher.on("error", (e) => opts.report({ type: "show.invalid", file: ".", line: null, column: null, reason: `watching the show directory failed: ${(e as Error).message}; edits may not be seen until the daemon restarts` }));
  await new Promise<void>((resolve) => watcher.once("ready", () => resolve()));
  const sweepTimer = setInterval(() => void sweeper.sweep(true).catch(() => undefined), opts.sweepMs ?? SWEEP_MS);
  sweepTimer.unref();

  return {
    current: () => state,
    follow(f) {
      followers.push(f);
    },
    async rescan(changed) {
      if (changed === undefined) return queue;
      await enqueue(isConfig(changed) ? CONFIG : changed, changed);
    },
    async close() {
      clearInterval(sweepTimer);
      for (const t of pending.values()) clearTimeout(t);
      pending.clear();
      await watcher.close();
    },
  };
}

/** How often every watched file's size and mtime is compared with what was last handled. */
const SWEEP_MS = 1000;

/** size:mtime of a file, or null when there is none. */
async function fileSignature(abs: string): Promise<string | null> {
  try {
    const st = await stat(abs);
    return st.isFile() ? `${st.size}:${st.mtimeMs}` : null;
  } catch {
    return null;
  }
}

/**
 * The safety net behind chokidar: remembers the signature of every watched file as last
 * handled, and schedules any file whose signature changed (or that appeared or went) since.
 */
export function createSweeper(root: string, schedule: (rel: string) => void): { saw(rel: string, sig: string | null): void; sweep(report: boolean): Promise<void> } {
  const known = new Map<string, string>();
  const list = async (rel: string, out: string[]): Promise<void> => {
    const entries = await readdir(path.join(root, rel), { withFileTypes: true }).catch(() => []);
    for (const e of entries) {
      const child = rel === "" ? e.name : `${rel}/${e.name}`;
      if (ignored(child)) continue;
      if (e.isDirectory()) await list(child, out);
      else if (e.isFile()) out.push(child);
    }
  };
  return {
    saw(rel, sig) {
      if (sig === null) known.delete(rel);
      else known.set(rel, sig);
    },
    async sweep(report) {
      const files: string[] = [];
      await list("", files);
      const present = new Set(files);
      for (const rel of files) {
        const sig = await fileSignature(path.join(root, rel));
        if (sig === null || known.get(rel) === sig) continue;
        known.set(rel, sig);
        if (report) schedule(rel);
      }
      for (const rel of [...known.keys()]) {
        if (present.has(rel)) continue;
        known.delete(rel);
        if (report) schedule(rel);
      }
    },
  };
}

function scriptIdOf(rel: string): string | null {
  const user = /^workspace\/scripts\/([A-Za-z0-9_-]+)\.lua$/.exec(rel);
  if (user) return user[1];
  const mod = /^modules\/([A-Za-z0-9_-]+)\/scripts\/([A-Za-z0-9_-]+)\.lua$/.exec(rel);
  return mod ? `${mod[1]}/${mod[2]}` : null;
}

/** openprod.toml, a module.toml, or a module folder itself (added or removed). */
function isConfig(rel: string): boolean {
  return rel === "openprod.toml" || /^modules\/[^/]+(\/module\.toml)?$/.test(rel);
}

function isLibrary(rel: string): boolean {
  return /^modules\/[^/]+\/exports\/.+\.lua$/.test(rel) || /^workspace\/modules\/.+\.lua$/.test(rel);
}

/** Outside what the watcher looks at, or an editor's / the daemon's own scratch file. */
function ignored(rel: string): boolean {
  if (rel === "") return false;
  const parts = rel.split(/[\\/]/);
  if (!WATCHED_TOP.has(parts[0])) return true;
  const base = parts[parts.length - 1];
  return parts.some((p) => p.startsWith(".")) || base.endsWith("~") || base.startsWith(TEMP_MARK) || /\.sw[a-p]$/.test(base) || base === "4913";
}
