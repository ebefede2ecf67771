/** `openprod log`: the last lines of the daemon's log file, or its live log stream with -f. */
import fs from "node:fs";
import path from "node:path";
import type { Command, CommandContext } from "./command.ts";
import type { DaemonEvent } from "../../protocol/index.ts";
import { daemonClient } from "./connection.ts";
import { intFlag } from "./flags.ts";

async function followLog(ctx: CommandContext, past: readonly string[]): Promise<number> {
  const client = await daemonClient(ctx);
  let held: DaemonEvent[] | null = [];
  const show = (e: DaemonEvent): void => {
    if (e.type !== "log") return;
    ctx.io.stdout.write(ctx.json ? JSON.stringify(e) + "\n" : `${e.time} ${e.level.toUpperCase().padEnd(5)} ${e.msg}\n`);
  };
  const print = (e: DaemonEvent): void => void (held ? held.push(e) : show(e));
  await client.subscribe(print, ["log"]);
  // The file's lines are text (or JSON, per --log-format); with --json each is wrapped so every line stays one JSON object.
  for (const line of past) ctx.io.stdout.write(ctx.json ? JSON.stringify({ type: "log", past: true, line }) + "\n" : line + "\n");
  const early = held;
  held = null;
  // A line logged between reading the file and subscribing may appear twice; none is lost.
  for (const e of early) show(e);
  return new Promise<number>((resolve) => {
    const stop = (): void => {
      client.close();
      resolve(0);
    };
    process.once("SIGINT", stop);
    process.once("SIGTERM", stop);
    client.onClose(() => resolve(0));
  });
}

export const LOG_COMMAND: Command = {
  name: "log",
  usage: "openprod log [-f] [--lines n]",
  summary: "the daemon's log: the last lines of .openprod/logs/daemon.log, or follow it live with -f",
  details: "With -f, the last --lines lines first (as tail -f), then each new line as it is logged; with --json, one JSON object per line until interrupted.",
  examples: ["openprod log --lines 50", "openprod log -f"],
  flags: { follow: { type: "boolean", short: "f", help: "follow the live log stream (needs a daemon)" }, lines: { type: "string", help: "how many past lines (default 20)" } },
  args: [0, 0],
  async run(ctx) {
    const file = path.join(path.resolve(ctx.dir), ".openprod", "logs", "daemon.log");
    const n = intFlag(ctx, "lines") ?? 20;
    const lines = fs.existsSync(file) ? fs.readFileSync(file, "utf8").split("\n").filter(Boolean).slice(-n) : [];
    // As tail -f: the last lines first, then what comes (subscribed before printing, so nothing falls between).
    if (ctx.args.flags.follow) return followLog(ctx, lines);
    return { doc: { file, lines }, text: lines.join("\n") || `no log yet at ${file}` };
  },
};
