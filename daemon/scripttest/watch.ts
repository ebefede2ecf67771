/**
 * `openprod test --watch`: runs the tests, then again each time a file of the show (a script,
 * a test, a fixture, openprod.toml) or a test path given is saved. chokidar does the watching,
 * as in the daemon's show watcher: it follows editors that save by rename. Saves that come
 * together (an editor writing a file twice, a checkout) make one rerun.
 */
import path from "node:path";
import { watch } from "chokidar";
import type { FSWatcher } from "chokidar";
import { runTests } from "./runner.ts";
import type { RunTestsOptions } from "./runner.ts";
import type { SuiteResult } from "./results.ts";

/** Saves within this many ms of each other make one rerun. */
const SETTLE_MS = 150;

export interface TestWatch {
  /** Resolves once the watcher follows the files (a save from then on makes a rerun). */
  ready: Promise<void>;
  close(): Promise<void>;
}

export interface WatchTestsOptions extends RunTestsOptions {
  /** After each run: its results, and the files whose change started it (none for the first). */
  onRun: (suite: SuiteResult, changed: string[]) => void;
  /** A run that could not start (the show's configuration is broken): said, and the watch goes on. */
  onError: (e: Error, changed: string[]) => void;
}

function ignored(root: string, abs: string): boolean {
  const rel = path.relative(root, abs);
  if (rel === "" || rel.startsWith("..")) return false;
  const parts = rel.split(path.sep);
  const base = parts[parts.length - 1];
  return parts.some((p) => p.startsWith(".") || p === "node_modules") || base.endsWith("~") || /\.sw[a-p]$/.test(base);
}

export function watchTests(opts: WatchTestsOptions): TestWatch {
  const root = path.resolve(opts.showDir);
  const targets = [root, ...(opts.paths ?? []).map((p) => path.resolve(p))];
  let pending = new Set<string>();
  let timer: NodeJS.Timeout | null = null;
  let running: Promise<void> | null = null;
  let closed = false;

  const runOnce = async (changed: string[]): Promise<void> => {
    try {
      opts.onRun(await runTests(opts), changed);
    } catch (e) {
      opts.onError(e as Error, changed);
    }
  };
  const kick = (): void => {
    timer = null;
    if (closed || running || pending.size === 0) return;
    const changed = [...pending].sort();
    pending = new Set();
    running = runOnce(changed).finally(() => {
      running = null;
      // Saves made during the run: one more.
      if (pending.size > 0) kick();
    });
  };
  const saw = (abs: string): void => {
    pending.add(path.relative(process.cwd(), abs) || abs);
    if (timer) clearTimeout(timer);
    timer = setTimeout(kick, SETTLE_MS);
  };

  let watcher: FSWatcher | null = null;
  const ready = (async () => {
    running = runOnce([]);
    await running;
    running = null;
    if (closed) return;
    const w = watch(targets, { ignoreInitial: true, ignored: (abs: string) => ignored(root, abs) });
    watcher = w;
    w.on("all", (_event, abs) => saw(abs));
    await new Promise<void>((resolve) => w.once("ready", () => resolve()));
    if (pending.size > 0) kick();
  })();

  return {
    ready,
    async close() {
      closed = true;
      if (timer) clearTimeout(timer);
      await ready.catch(() => undefined);
      await watcher?.close();
      await running;
    },
  };
}
