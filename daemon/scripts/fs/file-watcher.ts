/**
 * One fs.watch of a script: a file or a folder (recursively) turned into a queue of
 * `{type = "created"|"modified"|"deleted", path}` events the script takes one at a time.
 * chokidar does the watching: it follows files replaced by rename (how most editors and
 * tools save) and reports the files of a folder removed as a whole, where a bare fs.watch
 * loses track of both.
 */
import fsp from "node:fs/promises";
import path from "node:path";
import { watch } from "chokidar";
import type { FSWatcher } from "chokidar";
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

/** What fs.watch needs of a watcher: the real one is FileWatcher; openprod test gives its own. */
export interface Watcher {
  /** Resolves once changes from now on are seen. */
  start(): Promise<void>;
  /** The next event, or null once the watcher is closed. */
  next(): Promise<FsEvent | null>;
  close(): void;
}

export type WatchFiles = (o: FileWatcherOptions) => Watcher;

/**
 * Where a run's fs module meets the world's file changes (default: chokidar watching the
 * disk). openprod test delivers sim.fs.write and scripts' own writes to its watchers itself.
 */
export interface FsSeams {
  watch?: WatchFiles;
  /** A script of the run wrote this file (fs.write). */
  written?: (e: FsEvent) => void;
}

const MAX_QUEUED = 10_000;
const TYPES = { add: "created", change: "modified", unlink: "deleted" } as const;
/**
 * chokidar reports one `change` of a path per 50 ms and drops the rest (no trailing event):
 * this long after each reported write the file is looked at again, so a write that landed in
 * that window is still reported.
 */
const RECHECK_MS = 60;

export class FileWatcher implements Watcher {
  private readonly queue: FsEvent[] = [];
  private readonly waiting: ((e: FsEvent | null) => void)[] = [];
  private watcher: FSWatcher | null = null;
  private closed = false;
  private readonly rechecks = new Map<string, NodeJS.Timeout>();

  constructor(private readonly opts: FileWatcherOptions) {}

  /** Starts watching; resolves once changes from now on are seen. */
  async start(): Promise<void> {
    const { abs } = this.opts;
    // A file may not exist yet: watching the path itself sees it created, replaced or deleted.
    const w = watch(abs, {
      ignoreInitial: true,
      persistent: false,
      ignored: (p: string) => path.basename(p).startsWith(TEMP_MARK),
    });
    this.watcher = w;
    w.on("all", (event, full) => {
      if (event === "add" || event === "change" || event === "unlink") this.onFile(TYPES[event], full);
    });
    w.on("error", () => undefined);
    await new Promise<void>((resolve) => w.once("ready", () => resolve()));
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
    void this.watcher?.close();
    for (const t of this.rechecks.values()) clearTimeout(t);
    this.rechecks.clear();
    for (const w of this.waiting.splice(0)) w(null);
  }

  private onFile(type: FsEvent["type"], full: string): void {
    if (this.closed) return;
    const relInside = path.relative(this.opts.abs, full).split(path.sep).join("/");
    const rel = [this.opts.rel, relInside].filter((s) => s !== "").join("/");
    if (!this.opts.visible(rel)) return;
    this.push({ type, path: rel });
    // Only `change` is throttled by chokidar (an `add` never is, nor the change after it).
    if (type === "modified") void this.recheckLater(full, rel);
  }

  private async recheckLater(full: string, rel: string): Promise<void> {
    clearTimeout(this.rechecks.get(full));
    const signature = async (): Promise<string | null> => {
      const st = await fsp.stat(full).catch(() => null);
      return st ? `${st.mtimeMs}:${st.size}:${st.ino}` : null;
    };
    const seen = await signature();
    this.rechecks.set(
      full,
      setTimeout(() => {
        this.rechecks.delete(full);
        void signature().then((now) => {
          // Gone meanwhile: chokidar reports the unlink itself.
          if (now !== null && now !== seen && !this.closed) {
            this.push({ type: "modified", path: rel });
            void this.recheckLater(full, rel);
          }
        });
      }, RECHECK_MS).unref(),
    );
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
