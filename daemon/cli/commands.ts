/**
 * Every `openprod` command: usage, options, an example, and what it does.
 * Commands that only read work without a daemon (the store is opened here);
 * the others need one and say how to start it.
 */
import fs from "node:fs";
import path from "node:path";
import type { FlagSpec, ParsedArgs } from "./args.ts";
import { UsageError, parseValue } from "./args.ts";
import { daemonClient, liveConnection, readConnection } from "./connection.ts";
import type { Connection } from "./connection.ts";
import type { CliIO } from "./output.ts";
import { formatValue } from "./output.ts";
import type { BundleInfo, BundleResult, ConflictRecord, BulkConflict, EntityView, PeerInfo, StatusResult } from "../../protocol/methods.ts";
import type { DaemonEvent } from "../../protocol/events.ts";
import { SCRIPT_COMMANDS } from "./script-commands.ts";
import { CONSOLE_COMMAND } from "./console-command.ts";

export interface CommandContext {
  dir: string;
  json: boolean;
  io: CliIO;
  args: ParsedArgs;
}

export interface Command {
  name: string;
  usage: string;
  summary: string;
  details?: string;
  examples: string[];
  flags?: Record<string, FlagSpec>;
  args: [min: number, max: number];
  /** Returns the JSON document (printed as is with --json) and its text form; or an exit code when it printed itself. */
  run(ctx: CommandContext): Promise<{ doc: unknown; text: string } | number>;
}

async function withConnection<T>(open: Promise<Connection>, f: (c: Connection) => Promise<T>): Promise<T> {
  const c = await open;
  try {
    return await f(c);
  } finally {
    await c.close();
  }
}

const read = (ctx: CommandContext, method: string, params: unknown = {}): Promise<unknown> =>
  withConnection(readConnection(ctx.dir), (c) => c.call(method, params));
const write = (ctx: CommandContext, method: string, params: unknown = {}): Promise<unknown> =>
  withConnection(liveConnection(ctx.dir), (c) => c.call(method, params));

function entityText(e: EntityView): string {
  const lines = [`${e.id}${e.deleted ? " (deleted)" : ""}`, `  tables: ${Object.keys(e.tables).join(", ") || "-"}`];
  for (const [k, v] of Object.entries(e.fields)) lines.push(`  ${k} = ${formatValue(v)}`);
  return lines.join("\n");
}

function bundleText(r: BundleResult): string {
  return r.hash ? `bundle ${r.hash.slice(0, 12)} at ${r.hlc}` : "nothing changed (the value was already set)";
}

function intFlag(ctx: CommandContext, name: string): number | undefined {
  const v = ctx.args.flags[name];
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new UsageError(`--${name} must be a positive whole number, got "${String(v)}"`);
  return n;
}

export const COMMANDS: Command[] = [
  {
    name: "init",
    usage: "openprod init <dir>",
    summary: "create a new show directory with a working example of everything",
    details: "Copies the example show (config, modules, scripts, triggers; comments kept), gives it a fresh workspace id and a new workspace key (.openprod/workspace.key).",
    examples: ["openprod init ~/shows/hamlet"],
    args: [1, 1],
    async run(ctx) {
      const { initShow } = await import("./init-show.ts");
      const r = await initShow(ctx.args.positional[0]);
      return {
        doc: r,
        text: [
          `created show ${r.workspaceName} (${r.workspaceId}) in ${r.dir}`,
          `workspace key: ${r.keyFile} (copy it to every peer of this show; keep it secret)`,
          `next: openprod daemon --dir ${r.dir}`,
        ].join("\n"),
      };
    },
  },
  {
    name: "daemon",
    usage: "openprod daemon [--dir <show>] [--log-format text|json] [--no-network]",
    summary: "run the peer daemon for a show (store, sync, local socket)",
    details:
      "Stops cleanly on Ctrl-C / SIGTERM (running requests finish, everything is flushed); a second signal exits at once. Logs go to stderr and .openprod/logs/daemon.log.",
    examples: ["openprod daemon --dir ~/shows/hamlet", "openprod daemon --log-format json", "openprod daemon --dialog-timeout 2m"],
    flags: {
      "log-format": { type: "string", help: "text (default) or json: one JSON object per line" },
      "no-network": { type: "boolean", help: "do not start the libp2p peer node (no sync)" },
      "dialog-timeout": { type: "string", help: "how long a script's dialog waits for an answer, e.g. 30s or 2m (default 60s)" },
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
      return runDaemon({ dir: ctx.dir, json: ctx.json, io: ctx.io, logFormat: format, network: ctx.args.flags["no-network"] !== true, dialogTimeoutMs });
    },
  },
  {
    name: "status",
    usage: "openprod status [--dir <show>]",
    summary: "is the daemon running; workspace, peer id, entities, conflicts, peers",
    examples: ["openprod status", "openprod status --json"],
    args: [0, 0],
    async run(ctx) {
      const c = await readConnection(ctx.dir);
      try {
        const s = (await c.call("status")) as StatusResult;
        const doc = { running: c.live, ...s };
        const text = [
          c.live ? `daemon running (pid ${s.pid}) for ${s.showDir}` : `no daemon running for ${s.showDir} (read from the store)`,
          `workspace ${s.workspace.name} (${s.workspace.id})`,
          `peer id   ${s.peerId}`,
          `entities  ${s.entities}   conflicts ${s.conflicts}   peers ${s.peers}`,
          ...(s.addresses.length ? [`listening ${s.addresses.join(" ")}`] : []),
        ].join("\n");
        return { doc, text };
      } finally {
        await c.close();
      }
    },
  },
  {
    name: "query",
    usage: 'openprod query "<expr>" [params...] [--limit n]',
    summary: "entities matching a query; ? placeholders take the params in order",
    details: "Params are JSON when they parse as JSON (42, true, \"12\"), else text.",
    examples: [`openprod query "table == 'lighting_cues' AND number == ?" 12`, `openprod query "channel > 10 ORDER BY channel" --limit 5`],
    flags: { limit: { type: "string", help: "at most this many entities" } },
    args: [1, Infinity],
    async run(ctx) {
      const [expr, ...params] = ctx.args.positional;
      const r = (await read(ctx, "query", { expr, params: params.map(parseValue), limit: intFlag(ctx, "limit") })) as {
        count: number;
        entities: EntityView[];
      };
      const text = [...r.entities.map(entityText), `${r.count} entit${r.count === 1 ? "y" : "ies"}`].join("\n");
      return { doc: r, text };
    },
  },
  {
    name: "get",
    usage: "openprod get <id> [field]",
    summary: "one entity with its fields, or one field's value",
    examples: ["openprod get 01JF3Q8W0000000000000000", "openprod get 01JF3Q8W0000000000000000 channel"],
    args: [1, 2],
    async run(ctx) {
      const [id, field] = ctx.args.positional;
      const r = (await read(ctx, "get", field === undefined ? { id } : { id, field })) as { entity?: EntityView; value?: unknown };
      return { doc: r, text: r.entity ? entityText(r.entity) : formatValue(r.value) };
    },
  },
  {
    name: "create",
    usage: "openprod create <table> [field=value ...]",
    summary: "create an entity in a table, with field values (needs a daemon)",
    examples: ["openprod create lighting_cues number=12 label='Blackout'"],
    args: [1, Infinity],
    async run(ctx) {
      const [table, ...pairs] = ctx.args.positional;
      const fields: Record<string, unknown> = {};
      for (const p of pairs) {
        const eq = p.indexOf("=");
        if (eq < 1) throw new UsageError(`"${p}" is not field=value`, "create");
        fields[p.slice(0, eq)] = parseValue(p.slice(eq + 1));
      }
      const r = (await write(ctx, "entity.create", { tables: [table], fields })) as BundleResult & { id: string };
      return { doc: r, text: r.id };
    },
  },
  {
    name: "set",
    usage: "openprod set <id> <field> <value>",
    summary: "set one field (needs a daemon); value is JSON when valid JSON, else text",
    examples: ["openprod set 01JF3Q8W0000000000000000 channel 42", "openprod set 01JF3Q8W0000000000000000 label 'House to half'"],
    args: [3, 3],
    async run(ctx) {
      const [id, field, raw] = ctx.args.positional;
      const r = (await write(ctx, "entity.set", { id, field, value: parseValue(raw) })) as BundleResult;
      return { doc: r, text: bundleText(r) };
    },
  },
  {
    name: "history",
    usage: "openprod history [--entity <id>] [--limit n]",
    summary: "bundles newest first: when, who, on which peer, how many operations",
    examples: ["openprod history --limit 20", "openprod history --entity 01JF3Q8W0000000000000000"],
    flags: { entity: { type: "string", help: "only bundles that touched this entity" }, limit: { type: "string", help: "at most n bundles (default 100)" } },
    args: [0, 0],
    async run(ctx) {
      const entity = ctx.args.flags.entity;
      const r = (await read(ctx, "history", { entity: typeof entity === "string" ? entity : undefined, limit: intFlag(ctx, "limit") })) as {
        bundles: BundleInfo[];
      };
      const text = r.bundles.map((b) => `${b.meta.hlc}  ${b.meta.actor.kind}:${b.meta.actor.name}  ${b.meta.ops} op(s)  ${b.hash.slice(0, 12)}`).join("\n");
      return { doc: r, text: text || "no bundles" };
    },
  },
  {
    name: "conflicts",
    usage: "openprod conflicts",
    summary: "open conflicts (and bulk conflicts) with every competing value",
    examples: ["openprod conflicts --json"],
    args: [0, 0],
    async run(ctx) {
      const r = (await read(ctx, "conflicts.list")) as { conflicts: ConflictRecord[]; bulk: BulkConflict[] };
      const lines = r.conflicts.map(
        (c) => `${c.id}  ${c.entity} ${c.field}  shows ${formatValue(c.provisional)}; values: ${c.values.map((v) => `${formatValue(v.value)} (peer ${v.peer ?? "?"})`).join(" | ")}`,
      );
      for (const b of r.bulk) lines.push(`bulk ${b.id}: ${b.count} conflicts between ${b.sides.map((s) => s.changeSet).join(" and ")}`);
      return { doc: r, text: lines.join("\n") || "no open conflicts" };
    },
  },
  {
    name: "resolve",
    usage: "openprod resolve <conflict-id> <value|--ours|--theirs>  |  openprod resolve --bulk <id> --all-ours|--all-theirs",
    summary: "resolve a conflict with a value or one side, or a bulk conflict in one choice (needs a daemon)",
    examples: ["openprod resolve c-3f2a 42", "openprod resolve c-3f2a --theirs", "openprod resolve --bulk b-91c0 --all-ours"],
    flags: {
      ours: { type: "boolean", help: "keep this peer's value" },
      theirs: { type: "boolean", help: "keep the other peer's value" },
      bulk: { type: "string", help: "a bulk conflict id (with --all-ours or --all-theirs)" },
      "all-ours": { type: "boolean", help: "with --bulk: keep every value of this peer's side" },
      "all-theirs": { type: "boolean", help: "with --bulk: keep every value of the other side" },
    },
    args: [0, 2],
    async run(ctx) {
      const f = ctx.args.flags;
      const pos = ctx.args.positional;
      if (typeof f.bulk === "string") {
        if (pos.length || f.ours || f.theirs || Boolean(f["all-ours"]) === Boolean(f["all-theirs"])) {
          throw new UsageError("use: openprod resolve --bulk <id> --all-ours|--all-theirs", "resolve");
        }
        const r = (await write(ctx, "conflicts.resolveBulk", { id: f.bulk, keep: f["all-ours"] ? "ours" : "theirs" })) as BundleResult;
        return { doc: r, text: bundleText(r) };
      }
      const sides = [f.ours, f.theirs].filter(Boolean).length;
      if (pos.length === 0 || pos.length + sides !== 2 || f["all-ours"] || f["all-theirs"]) {
        throw new UsageError("use: openprod resolve <conflict-id> <value|--ours|--theirs>", "resolve");
      }
      const params = sides ? { id: pos[0], keep: f.ours ? "ours" : "theirs" } : { id: pos[0], value: parseValue(pos[1]) };
      const r = (await write(ctx, "conflicts.resolve", params)) as BundleResult;
      return { doc: r, text: bundleText(r) };
    },
  },
  {
    name: "peers",
    usage: "openprod peers [connect <multiaddr>]",
    summary: "peers this daemon syncs with; or dial one now",
    examples: ["openprod peers", "openprod peers connect /ip4/10.0.0.12/tcp/4101/p2p/12D3KooW..."],
    args: [0, 2],
    async run(ctx) {
      const [sub, addr] = ctx.args.positional;
      if (sub !== undefined && (sub !== "connect" || addr === undefined)) throw new UsageError("use: openprod peers [connect <multiaddr>]", "peers");
      if (sub === "connect") await write(ctx, "peers.connect", { addr });
      const r = (await write(ctx, "peers.list")) as { peerId: string; addresses: string[]; peers: PeerInfo[] };
      const lines = [`this peer ${r.peerId}`, ...r.addresses.map((a) => `  ${a}`)];
      lines.push(r.peers.length ? "syncing with:" : "not syncing with any peer");
      for (const p of r.peers) lines.push(`  ${p.peerId} at ${p.remoteAddr} (${p.direction}, since ${new Date(p.since).toISOString()})`);
      return { doc: r, text: lines.join("\n") };
    },
  },
  {
    name: "log",
    usage: "openprod log [-f] [--lines n]",
    summary: "the daemon's log: the last lines of .openprod/logs/daemon.log, or follow it live with -f",
    details: "With -f and --json, one JSON object per line until interrupted.",
    examples: ["openprod log --lines 50", "openprod log -f"],
    flags: { follow: { type: "boolean", short: "f", help: "follow the live log stream (needs a daemon)" }, lines: { type: "string", help: "how many past lines (default 20)" } },
    args: [0, 0],
    async run(ctx) {
      if (ctx.args.flags.follow) return followLog(ctx);
      const file = path.join(path.resolve(ctx.dir), ".openprod", "logs", "daemon.log");
      const n = intFlag(ctx, "lines") ?? 20;
      const lines = fs.existsSync(file) ? fs.readFileSync(file, "utf8").split("\n").filter(Boolean).slice(-n) : [];
      return { doc: { file, lines }, text: lines.join("\n") || `no log yet at ${file}` };
    },
  },
  {
    name: "store",
    usage: "openprod store inspect",
    summary: "read-only report of the stored workspace: which bundles are recoverable, what is damaged",
    details: "Works with or without a running daemon; never changes anything on disk.",
    examples: ["openprod store inspect --json"],
    args: [1, 1],
    async run(ctx) {
      if (ctx.args.positional[0] !== "inspect") throw new UsageError(`unknown store command "${ctx.args.positional[0]}" (use: openprod store inspect)`, "store");
      const { inspectStorage } = await import("../crdt/persistence/index.ts");
      const r = await inspectStorage(path.join(path.resolve(ctx.dir), ".openprod", "store"));
      const text = [
        `store ${r.dir}`,
        r.snapshot ? `full save up to bundle #${r.snapshot.uptoSeq} (${r.snapshot.size} bytes)` : "no full save yet",
        `${r.changes.length} recoverable bundle(s) after it${r.changes.length ? ` (#${r.changes[0].seq}..#${r.changes[r.changes.length - 1].seq})` : ""}`,
        r.damaged.length ? `${r.damaged.length} damaged record(s):` : "nothing damaged",
        ...r.damaged.map((d) => `  ${d.key}: ${d.reason}`),
      ].join("\n");
      return { doc: r, text };
    },
  },
  ...SCRIPT_COMMANDS,
  CONSOLE_COMMAND,
];

async function followLog(ctx: CommandContext): Promise<number> {
  const client = await daemonClient(ctx.dir);
  const print = (e: DaemonEvent): void => {
    if (e.type !== "log") return;
    ctx.io.stdout.write(ctx.json ? JSON.stringify(e) + "\n" : `${e.time} ${e.level.toUpperCase().padEnd(5)} ${e.msg}\n`);
  };
  await client.subscribe(print, ["log"]);
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
