/** `openprod daemon`: start, then run until SIGINT/SIGTERM; a second signal exits at once. */
import type { CliIO } from "./output.ts";
import type { LogFormat } from "../server/index.ts";

export interface RunDaemonOptions {
  dir: string;
  json: boolean;
  io: CliIO;
  logFormat: LogFormat;
  network: boolean;
}

export async function runDaemon(opts: RunDaemonOptions): Promise<number> {
  const { startDaemon } = await import("../main.ts");
  const d = await startDaemon({ showDir: opts.dir, logFormat: opts.logFormat, network: opts.network, console: opts.io.stderr, banner: opts.json ? null : opts.io.stdout });
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
  });
  if (opts.json) {
    opts.io.stdout.write(JSON.stringify({ ready: true, showDir: d.showDir, socket: d.socket, peerId: d.peerId, addresses: d.peer?.addresses() ?? [], pid: process.pid }) + "\n");
  }
  return stopped;
}
