/**
 * The commands that read the workspace: status, query, get, history, conflicts.
 * They work without a daemon too (the store is opened read-only here).
 */
import type { Command } from "./command.ts";
import { UsageError, parseValue } from "./args.ts";
import { RpcError } from "../../protocol/index.ts";
import { read, withConnection } from "./calls.ts";
import { readConnection } from "./connection.ts";
import type { Connection } from "./connection.ts";
import { EntityNames, hlcTime, peerNames, showValue } from "./display.ts";
import { actorText, bundleChangeLines, changeIds, entityText, shortField } from "./bundle-text.ts";
import { QUERY_FORMATS, entityTable, tableColumns } from "./entity-table.ts";
import { intFlag } from "./flags.ts";

/**
 * An id `get` cannot find may be an entity a script created in a session not yet
 * committed: say so (and which session), instead of a bare EntityNotFound.
 */
async function explainMissing(c: Connection, id: string, e: unknown): Promise<unknown> {
  if (!(e instanceof RpcError) || e.type !== "EntityNotFound") return e;
  const { sessions } = await c.call("sessions.list");
  for (const s of sessions) {
    const r = await c.call("sessions.get", { id: s.id });
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

export const STATUS_COMMAND: Command = {
  name: "status",
  usage: "openprod status [--dir <show>]",
  summary: "is the daemon running; workspace, peer id, entities, conflicts, peers",
  examples: ["openprod status", "openprod status --json"],
  args: [0, 0],
  async run(ctx) {
    const c = await readConnection(ctx);
    try {
      const s = await c.call("status");
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
};

export const QUERY_COMMAND: Command = {
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
    const r = await read(ctx, "query", { expr, params: params.map(parseValue), limit: intFlag(ctx, "limit") });
    if (format === "json") {
      ctx.io.stdout.write(JSON.stringify(r) + "\n");
      return 0;
    }
    // Without idsOnly the daemon sends the entities.
    const entities = r.entities ?? [];
    const total = `${r.count} entit${r.count === 1 ? "y" : "ies"}${r.count > entities.length ? ` (${entities.length} shown)` : ""}`;
    const body = format === "lines" ? entities.map(entityText) : entities.length ? [entityTable(entities, tableColumns(entities, columns))] : [];
    return { doc: r, text: [...body, total].join("\n") };
  },
};

export const GET_COMMAND: Command = {
  name: "get",
  usage: "openprod get <id> [field]",
  summary: "one entity with its fields, or one field's value",
  examples: ["openprod get 01JF3Q8W0000000000000000", "openprod get 01JF3Q8W0000000000000000 channel"],
  args: [1, 2],
  async run(ctx) {
    const [id, field] = ctx.args.positional;
    return withConnection(readConnection(ctx), async (c) => {
      try {
        const r = await c.call("get", field === undefined ? { id } : { id, field });
        return { doc: r, text: "entity" in r ? entityText(r.entity) : showValue(r.value) };
      } catch (e) {
        throw c.live ? await explainMissing(c, id, e) : e;
      }
    });
  },
};

export const HISTORY_COMMAND: Command = {
  name: "history",
  usage: "openprod history [--entity <id>] [--limit n]",
  summary: "bundles newest first: when, who, on which peer, and what each changed (entity, field, old → new)",
  examples: ["openprod history --limit 20", "openprod history --entity 01JF3Q8W0000000000000000"],
  flags: { entity: { type: "string", help: "only bundles that touched this entity" }, limit: { type: "string", help: "at most n bundles (default 100)" } },
  args: [0, 0],
  async run(ctx) {
    const entity = ctx.args.flags.entity;
    return withConnection(readConnection(ctx), async (c) => {
      const r = await c.call("history", { entity: typeof entity === "string" ? entity : undefined, limit: intFlag(ctx, "limit"), changes: true });
      // Asked with changes: true, every bundle carries its changes and the count beyond them.
      const bundles = r.bundles.map((b) => ({ ...b, changes: b.changes ?? [], more: b.more ?? 0 }));
      const names = await EntityNames.load(c, bundles.flatMap((b) => changeIds(b.changes)));
      const peer = await peerNames(c);
      const lines: string[] = [];
      for (const b of bundles) {
        lines.push(`${hlcTime(b.meta.hlc)}  ${actorText(b.meta.actor)}  on ${peer(b.meta.peer)}  bundle ${b.hash.slice(0, 12)}`);
        lines.push(...bundleChangeLines(b.changes, names));
        if (b.more > 0) lines.push(`    … and ${b.more} more change(s)`);
        if (b.changes.length === 0 && b.more === 0) lines.push(`    ${b.meta.ops} op(s), no field changed`);
      }
      return { doc: r, text: lines.join("\n") || "no bundles" };
    });
  },
};

export const CONFLICTS_COMMAND: Command = {
  name: "conflicts",
  usage: "openprod conflicts",
  summary: "open conflicts (and bulk conflicts) with every competing value",
  examples: ["openprod conflicts --json"],
  args: [0, 0],
  async run(ctx) {
    return withConnection(readConnection(ctx), async (c) => {
      const r = await c.call("conflicts.list");
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
};
