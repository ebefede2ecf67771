/**
 * Everyday edits beside create/set: delete an entity, remove an edge. Each
 * is one bundle, made by the daemon; the text names what went.
 */
import type { Command } from "./command.ts";
import { UsageError } from "./args.ts";
import { liveConnection } from "./connection.ts";
import { EntityNames, hlcTime } from "./display.ts";
import { InvalidOperation, fieldOf } from "../offline/index.ts";
import type { BundleResult, EntityView, FieldValue, Operation } from "../../protocol/index.ts";
import fs from "node:fs";
import { readRows, tableFields, typedRows } from "../offline/index.ts";
import type { RowError } from "../offline/index.ts";
import { showValue } from "./display.ts";

export const EDIT_COMMANDS: Command[] = [
  {
    name: "delete",
    usage: "openprod delete <id>",
    summary: "delete an entity (needs a daemon); it becomes a tombstone, history keeps it",
    examples: ["openprod delete 01JF3Q8W0000000000000000"],
    args: [1, 1],
    async run(ctx) {
      const [id] = ctx.args.positional;
      const c = await liveConnection(ctx);
      try {
        const names = await EntityNames.load(c, [id]);
        const r = await c.call("entity.delete", { id });
        return { doc: r, text: `deleted ${names.label(id)}: bundle ${r.hash?.slice(0, 12) ?? "-"} at ${hlcTime(r.hlc)}` };
      } finally {
        await c.close();
      }
    },
  },
  {
    name: "unlink",
    usage: "openprod unlink <edge-id>  |  openprod unlink <edge-type> <source-id> <target-id>",
    summary: "remove an edge (needs a daemon): by its id (as link printed it), or by its type and two ends",
    examples: ["openprod unlink scene 01JF3Q8W0000000000000001 01JF3Q8W0000000000000002", "openprod unlink e-01JF3Q8W0000000000000003"],
    args: [1, 3],
    async run(ctx) {
      const pos = ctx.args.positional;
      if (pos.length === 2) throw new UsageError("unlink takes an edge id, or an edge type with its source and target ids", "unlink");
      const c = await liveConnection(ctx);
      try {
        let edgeIds = [pos[0]];
        let what = `edge ${pos[0]}`;
        if (pos.length === 3) {
          const [type, source, target] = pos;
          const { edges } = await c.call("edges.list", { entity: source, type, direction: "out" });
          edgeIds = edges.filter((e) => e.target === target).map((e) => e.id);
          const names = await EntityNames.load(c, [source, target]);
          what = `${type} edge ${names.label(source)} → ${names.label(target)}`;
          if (edgeIds.length === 0) {
            const { RpcError, RPC_CODES } = await import("../../protocol/index.ts");
            throw new RpcError(RPC_CODES.InvalidOperation, { type: "InvalidOperation", message: `there is no ${what}`, details: { type, source, target } });
          }
        }
        // Two concurrent links of the same pair may both exist: unlink removes every one, one bundle each.
        const results: BundleResult[] = [];
        for (const edgeId of edgeIds) results.push(await c.call("edge.delete", { edgeId }));
        return { doc: { edges: edgeIds, results }, text: `removed ${what}${edgeIds.length > 1 ? ` (${edgeIds.length} edges)` : ""}` };
      } finally {
        await c.close();
      }
    },
  },
  {
    name: "import",
    usage: "openprod import <file.csv|file.json> --table <table> [--key <field>] [--dry-run]",
    summary: "create (or with --key, update) a table's entities from a CSV or JSON file, in one bundle (needs a daemon)",
    details: [
      "CSV: the first line names the columns (fields of the table: short names such as channel, or module.facet.field); an empty cell sets nothing.",
      "JSON: an array of objects, one per entity. Values are checked against the field types; every bad cell is reported with its row and column, and then nothing is written.",
      "--key <field>: a row whose key matches an entity of the table updates it (only the fields that differ); the other rows create entities.",
      "--dry-run: print what would be created and changed, write nothing.",
    ].join("\n"),
    examples: ["openprod import patch.csv --table lighting_fixtures --dry-run", "openprod import cues.json --table lighting_cues --key number"],
    flags: {
      table: { type: "string", help: "the table the rows belong to (required)" },
      key: { type: "string", help: "a field identifying existing entities: matching rows update them" },
      "dry-run": { type: "boolean", help: "show what would change; write nothing" },
    },
    args: [1, 1],
    async run(ctx) {
      const file = ctx.args.positional[0];
      const table = ctx.args.flags.table;
      if (typeof table !== "string") throw new UsageError("import needs --table <table>: the table the rows belong to", "import");
      const key = typeof ctx.args.flags.key === "string" ? ctx.args.flags.key : undefined;
      const dry = ctx.args.flags["dry-run"] === true;
      let text: string;
      try {
        text = fs.readFileSync(file, "utf8");
      } catch (e) {
        throw new InvalidOperation(`cannot read ${file}: ${(e as Error).message}`, { file });
      }
      const { rows: raw, columns } = readRows(file, text);
      const c = await liveConnection(ctx);
      try {
        const fields = tableFields(await c.call("schema"), table);
        if (key !== undefined && !fields.has(key)) throw new UsageError(`--key ${key} is not a field of table ${table}`, "import");
        const { rows, errors } = typedRows(raw, columns, fields);
        if (errors.length) {
          throw new InvalidOperation(`${file}: ${errors.length} bad cell(s), nothing imported:\n${errors.slice(0, 50).map((e) => `  ${rowText(e)}`).join("\n")}${errors.length > 50 ? `\n  … and ${errors.length - 50} more` : ""}`, {
            file,
            errors,
          });
        }
        const existing = new Map<string, EntityView>();
        if (key !== undefined) {
          const r = await c.call("query", { expr: "table == ?", params: [table] });
          for (const e of r.entities ?? []) {
            const v = fieldOf(e.fields, key);
            if (v !== undefined && v !== null) existing.set(JSON.stringify(v), e);
          }
        }
        const keyField = key === undefined ? undefined : fields.get(key)?.key;
        const ops: Operation[] = [];
        const preview: string[] = [];
        let created = 0;
        let updated = 0;
        let unchanged = 0;
        for (const r of rows) {
          const match = keyField === undefined || r.fields[keyField] === undefined ? undefined : existing.get(JSON.stringify(r.fields[keyField]));
          if (!match) {
            created++;
            ops.push({ op: "CreateEntity", tables: [table], fields: r.fields });
            preview.push(`  + row ${r.row}: ${Object.entries(r.fields).map(([k, v]) => `${k.slice(k.lastIndexOf(".") + 1)}=${showValue(v)}`).join(", ")}`);
            continue;
          }
          const diffs = Object.entries(r.fields).filter(([k, v]) => JSON.stringify(match.fields[k] ?? null) !== JSON.stringify(v));
          if (diffs.length === 0) {
            unchanged++;
            continue;
          }
          updated++;
          for (const [field, value] of diffs) ops.push({ op: "SetField", id: match.id, field, value: value as FieldValue });
          preview.push(`  ~ row ${r.row}: ${match.name}: ${diffs.map(([k, v]) => `${k.slice(k.lastIndexOf(".") + 1)} ${showValue(match.fields[k] ?? undefined)} → ${showValue(v)}`).join(", ")}`);
        }
        const summary = `${created} to create, ${updated} to update, ${unchanged} unchanged`;
        if (dry || ops.length === 0) {
          const doc = { dryRun: dry, table, created, updated, unchanged, ops };
          return { doc, text: [`${dry ? "dry run (nothing written)" : "nothing to import"}: ${file} into ${table}: ${summary}`, ...preview].join("\n") };
        }
        const r = await c.call("apply", { ops });
        return { doc: { table, created, updated, unchanged, ...r }, text: `imported ${file} into ${table}: ${summary.replace(/to (create|update)/g, (_m, w: string) => (w === "create" ? "created" : "updated"))}; bundle ${r.hash?.slice(0, 12) ?? "-"}` };
      } finally {
        await c.close();
      }
    },
  },
];

function rowText(e: RowError): string {
  const where = e.row === 0 ? "header" : `row ${e.row}${e.line !== null ? ` (line ${e.line})` : ""}`;
  return `${where}, column ${e.column}: ${e.message}`;
}
