/** `openprod init` (a new show directory) and `openprod daemon` (run the peer for a show). */
import type { Command } from "./command.ts";
import { UsageError } from "./args.ts";
import { LISTEN_FLAG, listenFlag } from "./flags.ts";
import { JOIN_FLAGS, runJoin } from "./join-command.ts";

export const INIT_COMMAND: Command = {
  name: "init",
  usage: "openprod init <dir> [--listen <port or multiaddr>] [--join <peer address> --code <code>]",
  summary: "create a new show directory with a working example of everything",
  details:
    "Copies the example show (config, modules, scripts, triggers; comments kept), gives it a fresh workspace id and a new workspace key (.openprod/workspace.key). --listen sets its [peer] listen (a second show on this machine needs its own port).",
  examples: ["openprod init ~/shows/hamlet", "openprod init ~/shows/hamlet --listen 4102", "openprod init ~/shows/hamlet --join /ip4/192.168.1.10/tcp/40871/p2p/12D3KooW... --code 7F3K-9QXA"],
  flags: { ...JOIN_FLAGS, join: { type: "string", help: "instead of the example show, join a running show (as `openprod join`; `openprod invite` there prints the address and code)" } },
  args: [1, 1],
  async run(ctx) {
    if (typeof ctx.args.flags.join === "string") return runJoin(ctx, ctx.args.positional[0], ctx.args.flags.join, "init");
    const { initShow } = await import("./init-show.ts");
    const r = await initShow(ctx.args.positional[0], { listen: await listenFlag(ctx, "init") });
    return {
      doc: r,
      text: [
        `created show ${r.workspaceName} (${r.workspaceId}) in ${r.dir}`,
        `workspace key: ${r.keyFile} (copy it to every peer of this show; keep it secret)`,
        `next: openprod daemon --dir ${r.dir}`,
      ].join("\n"),
    };
  },
};

export const DAEMON_COMMAND: Command = {
  name: "daemon",
  usage: "openprod daemon [--dir <show>] [--listen <port or multiaddr>] [--log-format text|json] [--no-network]",
  summary: "run the peer daemon for a show (store, sync, local socket)",
  details:
    "Stops cleanly on Ctrl-C / SIGTERM (running requests finish, everything is flushed); a second signal exits at once. Logs go to stderr and .openprod/logs/daemon.log. When the port in [peer] listen is taken (another show on this machine), the daemon listens on the next free port and says so; a port given with --listen that is taken is an error.",
  examples: ["openprod daemon --dir ~/shows/hamlet", "openprod daemon --listen 4102", "openprod daemon --log-format json", "openprod daemon --dialog-timeout 2m"],
  flags: {
    listen: LISTEN_FLAG,
    "log-format": { type: "string", help: "text (default) or json: one JSON object per line" },
    "no-network": { type: "boolean", help: "do not start the libp2p peer node (no sync)" },
    "dialog-timeout": { type: "string", help: "how long a script's dialog waits for an answer, e.g. 30s or 2m (default 60s)" },
    "stop-with-parent": { type: "boolean", help: "stop when the process that started the daemon exits (npm start uses it)" },
  },
  args: [0, 0],
  async run(ctx) {
    const format = ctx.args.flags["log-format"] ?? "text";
    if (format !== "text" && format !== "json") throw new UsageError(`--log-format must be text or json, got "${String(format)}"`, "daemon");
    let dialogTimeoutMs: number | undefined;
    const dt = ctx.args.flags["dialog-timeout"];
    if (typeof dt === "string") {
      const m = /^(\d+(?:\.\d+)?)(ms|s|m)$/.exec(dt.trim());
      if (!m) throw new UsageError(`--dialog-timeout must be a duration such as 500ms, 30s or 2m, got "${dt}"`, "daemon");
      dialogTimeoutMs = Number(m[1]) * (m[2] === "ms" ? 1 : m[2] === "s" ? 1000 : 60_000);
    }
    const { runDaemon } = await import("./run-daemon.ts");
    const listen = await listenFlag(ctx, "daemon");
    return runDaemon({ dir: ctx.dir, json: ctx.json, io: ctx.io, logFormat: format, network: ctx.args.flags["no-network"] !== true, dialogTimeoutMs, listen, stopWithParent: ctx.args.flags["stop-with-parent"] === true });
  },
};
