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
import { RpcError } from "../../protocol/errors.ts";
import type { Connection } from "./connection.ts";
import type { CliIO } from "./output.ts";
import { EntityNames, clockTime, hlcTime, peerNames, showValue } from "./display.ts";
import type { BundleChanges, BundleInfo, BundleResult, ConflictRecord, BulkConflict, EntityView, FieldChange, PeerInfo, StatusResult } from "../../protocol/methods.ts";
import type { DaemonEvent } from "../../protocol/events.ts";
import { SCRIPT_COMMANDS } from "./script-commands.ts";
import { EDIT_COMMANDS } from "./edit-commands.ts";
import { QUERY_FORMATS, entityTable, tableColumns } from "./entity-table.ts";
import { CONSOLE_COMMAND } from "./console-command.ts";
import { TEST_COMMAND } from "./test-command.ts";
import { LISTEN_FLAG, listenFlag } from "./listen-flag.ts";
import { JOIN_COMMAND, JOIN_FLAGS, runJoin } from "./join-command.ts";
import { INVITE_COMMAND } from "./invite-command.ts";

export interface CommandContext {
  dir: string;
  /** `--as <name>`: the person the CLI writes as. */
  as?: string;
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
  /** `--help` with arguments given (`openprod run renumber_cues --help`): help about that thing, e.g. a script's args. */
  helpFor?(ctx: CommandContext): Promise<{ doc: unknown; text: string }>;
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
  withConnection(readConnection(ctx), (c) => c.call(method, params));
const write = (ctx: CommandContext, method: string, params: unknown = {}): Promise<unknown> =>
  withConnection(liveConnection(ctx), (c) => c.call(method, params));

function entityText(e: EntityView): string {
  const lines = [`${e.name}  ${e.id}${e.deleted ? " (deleted)" : ""}`, `  tables: ${Object.keys(e.tables).join(", ") || "-"}`];
  for (const [k, v] of Object.entries(e.fields)) lines.push(`  ${k} = ${showValue(v)}`);
  if (e.undeclaredTables?.length) {
    lines.push(`  warning: table ${e.undeclaredTables.join(", ")} is not declared by this peer's modules (a peer with other modules made it); its fields are not shown here. Install the same modules as the other peers (openprod peers shows module differences)`);
  }
  return lines.join("\n");
}

function bundleText(r: BundleResult): string {
  return r.hash ? `bundle ${r.hash.slice(0, 12)} at ${hlcTime(r.hlc)}` : "nothing changed (the value was already set)";
}

const actorText = (a: { kind: string; name: string }): string => (a.kind === "user" ? a.name : `${a.kind}:${a.name}`);

/** One line of what a bundle changed: `Q12 Blackout: label Blackout → House to half`. */
function changeText(c: FieldChange, names: EntityNames): string {
  const who = names.label(c.entity);
  switch (c.kind) {
    case "field":
      return `${who}: ${shortField(c.field)} ${showValue(c.oldValue ?? undefined)} → ${showValue(c.newValue ?? undefined)}`;
    case "table":
      return `${who}: ${c.newValue ? "added to" : "removed from"} ${c.field}`;
    case "entity":
      return `${who}: ${c.field}`;
    case "edge": {
      const v = (c.newValue ?? c.oldValue) as { type?: string; source?: string; target?: string } | null;
      return `edge ${v?.type ?? ""} ${names.label(v?.source ?? "")} → ${names.label(v?.target ?? "")}: ${c.field}`;
    }
    default:
      return `${who}: ${c.kind} ${c.field}`;
  }
}

/** A bundle's changes, an entity it creates on one line with its tables and values. */
function bundleChangeLines(changes: readonly FieldChange[], names: EntityNames): string[] {
  const created = new Set(changes.filter((c) => c.kind === "entity" && c.field === "created").map((c) => c.entity));
  const lines: string[] = [];
  for (const c of changes) {
    if (!created.has(c.entity) || c.kind === "edge") {
      lines.push(`    ${changeText(c, names)}`);
      continue;
    }
    if (c.kind !== "entity" || c.field !== "created") continue;
    const mine = changes.filter((x) => x.entity === c.entity);
    const tables = mine.filter((x) => x.kind === "table" && x.newValue).map((x) => x.field);
    const values = mine.filter((x) => x.kind === "field").map((x) => `${shortField(x.field)}=${showValue(x.newValue ?? undefined)}`);
    lines.push(`    ${names.label(c.entity)}: created${tables.length ? ` in ${tables.join(", ")}` : ""}${values.length ? `: ${values.join(", ")}` : ""}`);
  }
  return lines;
}

/** `lighting.cue.label` → `label`: the facet is clear from the entity's name. */
const shortField = (key: string): string => key.slice(key.lastIndexOf(".") + 1);

/** The ids a list of changes mentions (entities, and both ends of edges). */
function changeIds(changes: readonly FieldChange[]): string[] {
  return changes.flatMap((c) => {
    if (c.kind !== "edge") return [c.entity];
    const v = (c.newValue ?? c.oldValue) as { source?: string; target?: string } | null;
    return [v?.source ?? "", v?.target ?? ""];
  });
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
  },
  {
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
  },
  {
    name: "status",
    usage: "openprod status [--dir <show>]",
    summary: "is the daemon running; workspace, peer id, entities, conflicts, peers",
    examples: ["openprod status", "openprod status --json"],
    args: [0, 0],
    async run(ctx) {
      const c = await readConnection(ctx);
      try {
        const s = (await c.call("status")) as StatusResult;
        const doc = { running: c.live, ...s };
        const text = [
          c.live ? `daemon running (pid ${s.pid}) for ${s.showDir}` : `no daemon running for ${s.showDir} (read from the store)`,
          `workspace ${s.workspace.name} (${s.workspace.id})`,
          `peer      ${s.peerName} (${s.peerId})`,
          `entities  ${s.entities}   bundles ${s.bundles}   conflicts ${s.conflicts}   peers ${s.peers}`,
          `heads     ${s.heads.map((h) => h.slice(0, 12)).join(" ")}`,
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
    usage: 'openprod query "<expr>" [params...] [--limit n] [--columns a,b,c] [--format table|lines|json]',
    summary: "entities matching a query, as a table; ? placeholders take the params in order",
    details: [
      "Params are JSON when they parse as JSON (42, true, \"12\"), else text.",
      "--format table (default): one row per entity, its name, id and fields (or --columns); lines: one block per entity with every field; json: as --json.",
    ].join("\n"),
    examples: [
      `openprod query "table == 'lighting_cues' AND number == ?" 12`,
      `openprod query "table == 'lighting_cues' ORDER BY number" --columns number,label,status`,
      `openprod query "channel > 10 ORDER BY channel" --limit 5 --format lines`,
    ],
    flags: {
      limit: { type: "string", help: "at most this many entities" },
      columns: { type: "string", help: "the fields to show, comma-separated (default: every field)" },
      format: { type: "string", help: "table (default), lines or json" },
    },
    args: [1, Infinity],
    async run(ctx) {
      const [expr, ...params] = ctx.args.positional;
      const format = ctx.args.flags.format ?? "table";
      if (!(QUERY_FORMATS as readonly unknown[]).includes(format)) throw new UsageError(`--format must be ${QUERY_FORMATS.join(", ")}, got "${String(format)}"`, "query");
      const columns = typeof ctx.args.flags.columns === "string" ? ctx.args.flags.columns.split(",").map((c) => c.trim()).filter(Boolean) : undefined;
      const r = (await read(ctx, "query", { expr, params: params.map(parseValue), limit: intFlag(ctx, "limit") })) as {
        count: number;
        entities: EntityView[];
      };
      if (format === "json") {
        ctx.io.stdout.write(JSON.stringify(r) + "\n");
        return 0;
      }
      const total = `${r.count} entit${r.count === 1 ? "y" : "ies"}${r.count > r.entities.length ? ` (${r.entities.length} shown)` : ""}`;
      const body = format === "lines" ? r.entities.map(entityText) : r.entities.length ? [entityTable(r.entities, tableColumns(r.entities, columns))] : [];
      return { doc: r, text: [...body, total].join("\n") };
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
      return withConnection(readConnection(ctx), async (c) => {
        try {
          const r = (await c.call("get", field === undefined ? { id } : { id, field })) as { entity?: EntityView; value?: unknown };
          return { doc: r, text: r.entity ? entityText(r.entity) : showValue(r.value) };
        } catch (e) {
          throw c.live ? await explainMissing(c, id, e) : e;
        }
      });
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
    summary: "bundles newest first: when, who, on which peer, and what each changed (entity, field, old → new)",
    examples: ["openprod history --limit 20", "openprod history --entity 01JF3Q8W0000000000000000"],
    flags: { entity: { type: "string", help: "only bundles that touched this entity" }, limit: { type: "string", help: "at most n bundles (default 100)" } },
    args: [0, 0],
    async run(ctx) {
      const entity = ctx.args.flags.entity;
      return withConnection(readConnection(ctx), async (c) => {
        const r = (await c.call("history", { entity: typeof entity === "string" ? entity : undefined, limit: intFlag(ctx, "limit"), changes: true })) as {
          bundles: (BundleInfo & BundleChanges)[];
        };
        const names = await EntityNames.load(c, r.bundles.flatMap((b) => changeIds(b.changes)));
        const peer = await peerNames(c);
        const lines: string[] = [];
        for (const b of r.bundles) {
          lines.push(`${hlcTime(b.meta.hlc)}  ${actorText(b.meta.actor)}  on ${peer(b.meta.peer)}  bundle ${b.hash.slice(0, 12)}`);
          lines.push(...bundleChangeLines(b.changes, names));
          if (b.more > 0) lines.push(`    … and ${b.more} more change(s)`);
          if (b.changes.length === 0 && b.more === 0) lines.push(`    ${b.meta.ops} op(s), no field changed`);
        }
        return { doc: r, text: lines.join("\n") || "no bundles" };
      });
    },
  },
  {
    name: "conflicts",
    usage: "openprod conflicts",
    summary: "open conflicts (and bulk conflicts) with every competing value",
    examples: ["openprod conflicts --json"],
    args: [0, 0],
    async run(ctx) {
      return withConnection(readConnection(ctx), async (c) => {
        const r = (await c.call("conflicts.list")) as { conflicts: ConflictRecord[]; bulk: BulkConflict[] };
        const names = await EntityNames.load(c, r.conflicts.map((x) => x.entity));
        const peer = await peerNames(c);
        const lines = r.conflicts.map(
          (x) =>
            `${x.id}  ${names.label(x.entity)} ${shortField(x.field)}  shows ${showValue(x.provisional)}; values: ${x.values
              .map((v) => `${showValue(v.value)} (${peer(v.peer)}${v.actor ? `, ${actorText(v.actor)}` : ""}${v.hlc ? ` at ${hlcTime(v.hlc)}` : ""})`)
              .join(" | ")}`,
        );
        for (const b of r.bulk) lines.push(`bulk ${b.id}: ${b.count} conflicts between ${b.sides.map((s) => s.changeSet).join(" and ")}`);
        return { doc: r, text: lines.join("\n") || "no open conflicts" };
      });
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
      const r = (await write(ctx, "peers.list")) as { peerId: string; peerName: string; addresses: string[]; peers: PeerInfo[] };
      const lines = [`this peer ${r.peerName} (${r.peerId})`, ...r.addresses.map((a) => `  ${a}`)];
      lines.push(r.peers.length ? "syncing with:" : "not syncing with any peer");
      for (const p of r.peers) {
        const lag = p.behindMs > 0 ? `, behind ${(p.behindMs / 1000).toFixed(1)} s` : ", in sync";
        lines.push(`  ${p.name ?? "(unnamed)"} (${p.peerId}) at ${p.remoteAddr} (${p.direction}, since ${clockTime(p.since)}${lag})`);
        if (p.modulesDiffer) lines.push(`    warning: other modules than this peer: ${p.modulesDiffer}`);
      }
      return { doc: r, text: lines.join("\n") };
    },
  },
  {
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
  },
  {
    name: "store",
    usage: "openprod store inspect|recover",
    summary: "inspect: read-only report of the stored workspace (exits 1 on damage); recover: get a damaged store back in service",
    details:
      "inspect works with or without a running daemon and never changes anything on disk; it exits 1 when it finds damage, naming the damaged files. " +
      "recover (daemon stopped) keeps every bundle and record that verifies, moves the damaged store aside as it is (.openprod/store.damaged-<time>), " +
      "and starts a new store from what was kept; the next `openprod daemon` syncs the missing bundles from its peers.",
    examples: ["openprod store inspect --json", "openprod store recover && openprod daemon"],
    args: [1, 1],
    async run(ctx) {
      const sub = ctx.args.positional[0];
      if (sub === "recover") return recoverCommand(ctx);
      if (sub !== "inspect") throw new UsageError(`unknown store command "${sub}" (use: openprod store inspect|recover)`, "store");
      const { inspectStorage } = await import("../crdt/persistence/index.ts");
      const { showDirectory } = await import("../config/show-directory.ts");
      const dirs = showDirectory(ctx.dir);
      const r = await inspectStorage(dirs.storeDir, { acknowledgedFile: dirs.acknowledgedFile });
      const missing = r.acknowledged?.missing ?? [];
      const damaged = r.damaged.length > 0 || r.damagedFiles.length > 0 || missing.length > 0;
      const text = [
        `store ${r.dir}`,
        r.snapshot ? `full save up to bundle #${r.snapshot.uptoSeq} (${r.snapshot.size} bytes)` : "no full save yet",
        `${r.changes.length} recoverable bundle(s) after it${r.changes.length ? ` (#${r.changes[0].seq}..#${r.changes[r.changes.length - 1].seq})` : ""}`,
        ...(r.acknowledged ? [`${r.acknowledged.seq} bundle(s) acknowledged (${r.acknowledged.file}); ${missing.length ? `${missing.length} of them missing` : "all of them present"}`] : []),
        ...r.damagedFiles.map((f) => `damaged file ${f.file}: ${f.reason} at byte ${f.offset} (${f.bytes} byte(s) unreadable)`),
        r.damaged.length ? `${r.damaged.length} damaged record(s):` : damaged ? "" : "nothing damaged",
        ...r.damaged.map((d) => `  ${d.key}: ${d.reason}`),
        ...(damaged ? ["to get this peer back in service: openprod store recover (then start the daemon: it syncs the rest from its peers)"] : []),
      ]
        .filter(Boolean)
        .join("\n");
      ctx.io.stdout.write((ctx.json ? JSON.stringify({ ...r, ok: !damaged }) : text) + "\n");
      return damaged ? 1 : 0;
    },
  },
  ...EDIT_COMMANDS,
  ...SCRIPT_COMMANDS,
  CONSOLE_COMMAND,
  TEST_COMMAND,
  INVITE_COMMAND,
  JOIN_COMMAND,
];

async function recoverCommand(ctx: CommandContext): Promise<{ doc: unknown; text: string }> {
  // The daemon holds the store: recovering under it would pull its files away.
  const running = await daemonClient(ctx).then(
    (c) => (c.close(), true),
    () => false,
  );
  if (running) throw new UsageError(`a daemon is running for ${path.resolve(ctx.dir)}: stop it first, then run openprod store recover`, "store");
  const { loadShow } = await import("../config/index.ts");
  const { recoverStore } = await import("../crdt/recover.ts");
  const { peerSettings } = await import("../server/peer-settings.ts");
  const show = await loadShow(ctx.dir);
  const r = await recoverStore({ dir: show.dir.storeDir, acknowledgedFile: show.dir.acknowledgedFile, workspaceId: show.config.workspace.id });
  const peers = peerSettings(show.config.peer, show.dir.root).connect;
  const text = [
    `kept ${r.kept} bundle(s) that verify${r.acknowledged !== null ? ` (the store had acknowledged ${r.acknowledged})` : ""} and ${r.records} record(s)`,
    r.movedTo ? `the damaged store was moved, as it was, to ${r.movedTo}` : "there was no store left to move aside",
    ...(r.waitingForPeers ? [`${r.waitingForPeers} verified bundle(s) wait for earlier ones a peer will send`] : []),
    `next: openprod daemon --dir ${show.dir.root}   it syncs the missing bundles from ${peers.length ? peers.join(", ") : "the peers it finds (mDNS) or you connect with openprod peers connect"}`,
  ].join("\n");
  return { doc: r, text };
}

/**
 * An id `get` cannot find may be an entity a script created in a session not yet
 * committed: say so (and which session), instead of a bare EntityNotFound.
 */
async function explainMissing(c: Connection, id: string, e: unknown): Promise<unknown> {
  if (!(e instanceof RpcError) || e.type !== "EntityNotFound") return e;
  const { sessions } = (await c.call("sessions.list")) as { sessions: { id: string }[] };
  for (const s of sessions) {
    const r = (await c.call("sessions.get", { id: s.id })) as { changes: { op: string; entity: string | null }[] };
    if (r.changes.some((ch) => ch.op === "CreateEntity" && ch.entity === id)) {
      return new RpcError(e.code, {
        type: "EntityNotFound",
        message: `entity ${id} exists only in session ${s.id}, not committed (review: openprod session show ${s.id}; commit: openprod session commit ${s.id})`,
        details: { ...e.data.details, id, session: s.id },
      });
    }
  }
  return e;
}

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
