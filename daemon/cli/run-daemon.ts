/** `openprod daemon`: start, then run until SIGINT/SIGTERM; a second signal exits at once. */
import path from "node:path";
import { pathToFileURL } from "node:url";
import type { CliIO } from "./output.ts";
import { packageRoot } from "./package-root.ts";
import type * as DaemonMain from "../main.ts";

type LogFormat = NonNullable<DaemonMain.DaemonOptions["logFormat"]>;

export interface RunDaemonOptions {
  dir: string;
  json: boolean;
  io: CliIO;
  logFormat: LogFormat;
  network: boolean;
  /** How long scripts' dialogs wait for an answer (default 60 s). */
  dialogTimeoutMs?: number;
  /** `--listen` values (see DaemonOptions.listen). */
  listen?: string[];
  /** Stop (as on SIGTERM) when the process that started the daemon exits: `npm start`, whose shell drops SIGTERM. */
  stopWithParent?: boolean;
}

export async function runDaemon(opts: RunDaemonOptions): Promise<number> {
  const { startDaemon } = await loadDaemon();
  const d = await startDaemon({ showDir: opts.dir, logFormat: opts.logFormat, network: opts.network, listen: opts.listen, scripts: { dialogTimeoutMs: opts.dialogTimeoutMs }, consoleAssets: process.env.OPENPROD_CONSOLE_DIST || undefined, console: opts.io.stderr, banner: opts.json ? null : opts.io.stdout });
  // Handlers before the ready line: whoever reads that line may signal at once.
  const stopped = new Promise<number>((resolve) => {
    let signals = 0;
    const onSignal = (signal: NodeJS.Signals): void => {
      signals++;
      if (signals > 1) {
        // Bundles are atomic LevelDB batches: exiting now loses at most requests not yet acknowledged.
        d.log.warn(`${signal} again: exiting now`, { signal });
        process.exit(130);
      }
      d.log.info(`${signal}: shutting down (send it again to exit at once)`, { signal });
      d.stop().then(
        () => resolve(0),
        (e: unknown) => {
          opts.io.stderr.write(`error while stopping: ${e instanceof Error ? e.message : String(e)}\n`);
          resolve(1);
        },
      );
    };
    process.on("SIGINT", onSignal);
    process.on("SIGTERM", onSignal);
    if (opts.stopWithParent) {
      const parent = process.ppid;
      const watch = setInterval(() => {
        if (process.ppid === parent) return;
        clearInterval(watch);
        // Already stopping on a signal (Ctrl-C reaches the whole terminal group, the shell included): nothing to add.
        if (signals > 0) return;
        d.log.info(`the process that started this daemon (pid ${parent}) exited: shutting down`, { parent });
        signals++;
        d.stop().then(
          () => resolve(0),
          () => resolve(1),
        );
      }, 250);
      watch.unref();
    }
  });
  if (opts.json) {
    opts.io.stdout.write(JSON.stringify({ ready: true, showDir: d.showDir, socket: d.socket, peerId: d.peerId, addresses: d.peer?.addresses() ?? [], pid: process.pid, console: d.consoleUrl }) + "\n");
  }
  return stopped;
}

/**
 * The daemon runs from its TypeScript sources even when this CLI is the built bundle: the
 * script runtime reads its Lua preludes next to its sources and its worker threads load
 * TypeScript through tsx anyway. Only the client commands gain from the bundle's fast start.
 */
async function loadDaemon(): Promise<typeof DaemonMain> {
  if (!import.meta.url.endsWith(".ts")) (await import("tsx/esm/api")).register();
  const source = pathToFileURL(path.join(packageRoot(), "daemon", "main.ts")).href;
  return (await import(source)) as typeof DaemonMain;
}
