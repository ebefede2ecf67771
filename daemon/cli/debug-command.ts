/**
 * `openprod debug <script>`: opens a debugging session in the daemon (through the owner-only
 * socket) and either prints the loopback DAP port for an editor to connect to, or, with
 * --stdio, is itself the adapter an editor starts: DAP on stdin/stdout, bridged to the
 * session's owner-only Unix socket. Ends when the run does, saying how to keep its changes.
 */
import net from "node:net";
import type { Command, CommandContext } from "./command.ts";
import { UsageError } from "./args.ts";
import { daemonClient } from "./connection.ts";
import { scriptArgs } from "./run-script.ts";
import type { DebugEnd, DebugStarted } from "../../protocol/index.ts";

export const DEBUG_COMMAND: Command = {
  name: "debug",
  usage: "openprod debug <script> [--arg key=value ...] [--args '<json>'] [--port n] [--stdio] [--attach] [--wall-limit <seconds>]",
  summary: "run a script under a Debug Adapter Protocol debugger (VS Code, nvim-dap...): breakpoints, stepping, variables",
  details: [
    "Without --stdio the daemon listens for one DAP client on 127.0.0.1 (--port, default any free port, printed) and only accepts",
    "connections from the show's owner; with --stdio this command speaks DAP on its stdin/stdout, for editors that start the adapter.",
    "The script runs when the client sends launch, in the real runtime with its own capabilities, and its changes stay in a session",
    "for review (openprod session commit/discard). --attach: the script's next run, whoever starts it (a trigger), waits for the",
    "debugger instead (the client sends attach). While paused the run's time limit stands still; --wall-limit (default the script's",
    "debug_timeout, 1 h) bounds the whole debugging run. See docs/debugging-scripts.md.",
  ].join("\n"),
  examples: ["openprod debug renumber_cues --arg scene_id=01JF3Q8W0000000000000000", "openprod debug renumber_cues --stdio", "openprod debug on_cue_go --attach --port 4711"],
  flags: {
    arg: { type: "string", repeat: true, help: "key=value for the script's args (repeatable)" },
    args: { type: "string", help: "the script's args as one JSON object" },
    port: { type: "string", help: "the loopback TCP port for the DAP client (default: any free one)" },
    stdio: { type: "boolean", help: "speak DAP on stdin/stdout (an editor starts this command as its adapter)" },
    attach: { type: "boolean", help: "debug the script's next run (e.g. from a trigger) instead of starting one" },
    "wall-limit": { type: "string", help: "seconds the run may last under the debugger, paused time included" },
  },
  args: [1, 1],
  run: (ctx) => debugScript(ctx),
};

async function debugScript(ctx: CommandContext): Promise<number> {
  const script = ctx.args.positional[0];
  const stdio = ctx.args.flags.stdio === true;
  const attach = ctx.args.flags.attach === true;
  const port = wholeNumber(ctx.args.flags.port, "--port", 0, 65535);
  const wall = wholeNumber(ctx.args.flags["wall-limit"], "--wall-limit", 1, 24 * 3600);
  const args = scriptArgs(ctx, "debug");
  if (attach && Object.keys(args).length > 0) throw new UsageError("--attach debugs a run someone else starts, with their args: --arg/--args do not apply", "debug");
  // With --stdio, stdout carries DAP: everything for people goes to stderr.
  const say = (line: string): void => void (stdio ? ctx.io.stderr : ctx.io.stdout).write(line + "\n");
  const client = await daemonClient(ctx);
  try {
    const started = (await client.request("debug.start", {
      script,
      ...(attach ? { attach } : { args }),
      ...(port === undefined ? {} : { port }),
      ...(wall === undefined ? {} : { wallLimitMs: wall * 1000 }),
    })) as DebugStarted;
    if (ctx.json && !stdio) say(JSON.stringify({ id: started.id, port: started.port, host: "127.0.0.1", mode: started.mode }));
    else if (!stdio) {
      say(`debugging ${script}: DAP server on 127.0.0.1:${started.port} (only you can connect)`);
      say(attach ? `waiting for the next run of ${script}: connect your editor with "attach"` : `connect your editor with "launch" to start the run (see docs/debugging-scripts.md)`);
    } else say(`debugging ${script} over stdio (${started.mode})`);
    const ended = client.request("debug.wait", { id: started.id }) as Promise<DebugEnd>;
    if (stdio) await bridge(started.socket, ctx);
    const end = await ended;
    if (ctx.json && !stdio) say(JSON.stringify({ run_id: end.runId, status: end.status, session_id: end.sessionId ?? null, summary: end.summary }));
    else for (const line of end.summary) say(line);
    return end.status === "ok" ? 0 : 1;
  } finally {
    client.close();
  }
}

/** stdin → the session's socket → stdout, until the session closes it. */
function bridge(socketPath: string, ctx: CommandContext): Promise<void> {
  const stdin = ctx.io.stdin ?? process.stdin;
  return new Promise((resolve, reject) => {
    const sock = net.connect(socketPath);
    sock.once("error", reject);
    sock.on("connect", () => {
      stdin.pipe(sock);
      sock.pipe(ctx.io.stdout as NodeJS.WritableStream, { end: false });
    });
    sock.on("close", () => {
      stdin.unpipe(sock);
      stdin.pause();
      resolve();
    });
  });
}

function wholeNumber(v: unknown, flag: string, min: number, max: number): number | undefined {
  if (v === undefined) return undefined;
  const n = typeof v === "string" && /^\d+$/.test(v) ? Number(v) : NaN;
  if (!Number.isInteger(n) || n < min || n > max) throw new UsageError(`${flag} must be a whole number from ${min} to ${max}, got ${JSON.stringify(v)}`, "debug");
  return n;
}
