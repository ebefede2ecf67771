/**
 * Fixtures: entities, edges and ordered edges declared by table in a TOML or JSON file, created
 * in the scratch workspace as one bundle, with names the test refers to them by.
 *
 *   [lighting_cues.Q1]            # table lighting_cues, fixture name Q1
 *   label = "Top of show"
 *   scene = "@scenes.act1"        # "@table.name": the id of another fixture entity
 *   [[edges]]                     # type, source, target (refs), properties
 *   [[ordered_edges]]             # same, created in file order (the order of the edge list)
 *
 * A CSV fixture holds the members of one table: the file is named after it
 * (`lighting_fixtures.csv`, or `rig.lighting_fixtures.csv`), the header names fields, and an
 * `@name` column (optional) the names the test refers to rows by (else "1", "2"... by row).
 * Cells are typed by the schema; a bad cell is an error naming its row and column.
 */
import { readFile, stat } from "node:fs/promises";
import path from "node:path";
import { parse as parseToml } from "smol-toml";
import { InvalidOperation } from "../crdt/index.ts";
import type { FieldValue, Fields, Operation, Schema, WorkspaceStore } from "../crdt/index.ts";
import { readRows, tableFields, typedRows } from "../offline/index.ts";
import { schemaResult } from "../server/index.ts";

/** table → fixture name → entity id; `edges` → name (or index) → edge id. */
export type FixtureIds = Record<string, Record<string, string>>;

const EDGE_KEYS = ["edges", "ordered_edges"] as const;
const REF = /^@([^.]+)\.(.+)$/;

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v) && !(v instanceof Date);
}

const NAME_COLUMN = "@name";

/** The table a CSV fixture fills: its file name, or the last dotted part of it before .csv. */
function csvTable(file: string, rel: string, schema: Schema): string {
  const parts = path.basename(file).replace(/\.csv$/i, "").split(".");
  const table = [...parts].reverse().find((p) => schema.tables.has(p));
  if (!table) {
    throw new InvalidOperation(`fixture ${rel}: a CSV fixture is named after its table, e.g. lighting_fixtures.csv or rig.lighting_fixtures.csv (tables: ${[...schema.tables.keys()].join(", ")})`, { file });
  }
  return table;
}

/** One table's rows as the fixture document TOML would give: { table: { name: fields } }, cells typed. */
function csvFixture(file: string, rel: string, text: string, schema: Schema): Record<string, unknown> {
  const table = csvTable(file, rel, schema);
  const { rows, columns } = readRows(rel, text);
  const fieldColumns = columns.filter((c) => c !== NAME_COLUMN);
  const named = rows.map((r) => {
    const { [NAME_COLUMN]: name, ...cells } = r.cells;
    return { name: typeof name === "string" && name.trim() !== "" ? name.trim() : String(r.row), row: { ...r, cells } };
  });
  const typed = typedRows(named.map((n) => n.row), fieldColumns, tableFields(schemaResult(schema), table));
  if (typed.errors.length > 0) {
    const where = (e: { row: number; line: number | null; column: string }): string => (e.row === 0 ? `header, column ${e.column}` : `row ${e.row}${e.line ? ` (line ${e.line})` : ""}, column ${e.column}`);
    const shown = typed.errors.slice(0, 5).map((e) => `${where(e)}: ${e.message}`);
    const more = typed.errors.length > 5 ? ` (and ${typed.errors.length - 5} more)` : "";
    const first = typed.errors[0];
    throw new InvalidOperation(`fixture ${rel}: ${shown.join("; ")}${more}`, { file, row: first.row, column: first.column });
  }
  const group: Record<string, unknown> = {};
  typed.rows.forEach((r, i) => {
    const name = named[i].name;
    if (name in group) throw new InvalidOperation(`fixture ${rel}: row ${r.row}: the name "${name}" (${NAME_COLUMN}) is used twice`, { file, row: r.row });
    group[name] = r.fields;
  });
  return { [table]: group };
}

/**
 * Parsed fixtures by file, kept while the file is unchanged: most tests load the same few
 * fixtures again and again.
 */
const parsed = new Map<string, { mtimeMs: number; size: number; schema: Schema; doc: Record<string, unknown> }>();

async function readFixture(file: string, rel: string, schema: Schema): Promise<Record<string, unknown>> {
  let st;
  try {
    st = await stat(file);
  } catch {
    throw new InvalidOperation(`fixture ${rel} not found (looked at ${file})`, { file });
  }
  const hit = parsed.get(file);
  if (hit && hit.mtimeMs === st.mtimeMs && hit.size === st.size && hit.schema === schema) return hit.doc;
  const doc = await parseFixture(file, rel, schema);
  if (parsed.size > 256) parsed.clear();
  parsed.set(file, { mtimeMs: st.mtimeMs, size: st.size, schema, doc });
  return doc;
}

async function parseFixture(file: string, rel: string, schema: Schema): Promise<Record<string, unknown>> {
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch {
    throw new InvalidOperation(`fixture ${rel} not found (looked at ${file})`, { file });
  }
  if (/\.csv$/i.test(file)) return csvFixture(file, rel, text, schema);
  try {
    const doc: unknown = file.endsWith(".json") ? JSON.parse(text) : parseToml(text);
    if (!isRecord(doc)) throw new Error("the top level must be a table of tables");
    return doc;
  } catch (e) {
    throw new InvalidOperation(`fixture ${rel}: ${(e as Error).message}`, { file });
  }
}

function toField(v: unknown): FieldValue {
  if (v instanceof Date) return v.toISOString();
  if (Array.isArray(v)) return v.map(toField);
  if (isRecord(v)) return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, toField(x)]));
  return v as FieldValue;
}

/**
 * Loads `file` (TOML, or JSON when it ends in .json) into `store`; returns the names' ids.
 * `label` is how errors name the file (the path as the test wrote it); `@table.name` refs may
 * also name entities of fixtures loaded before (`known`).
 */
export async function loadFixture(store: WorkspaceStore, file: string, label = path.basename(file), known: FixtureIds = {}): Promise<FixtureIds> {
  const rel = label;
  const doc = await readFixture(file, rel, store.schema);
  const ids: FixtureIds = {};
  const ops: Operation[] = [];
  const pendingFields: { table: string; name: string; fields: Record<string, unknown> }[] = [];
  for (const [table, group] of Object.entries(doc)) {
    if ((EDGE_KEYS as readonly string[]).includes(table)) continue;
    if (!store.schema.tables.has(table)) {
      const known = [...store.schema.tables.keys()].join(", ");
      throw new InvalidOperation(`fixture ${rel}: unknown table "${table}" (tables: ${known})`, { file, table });
    }
    if (!isRecord(group)) throw new InvalidOperation(`fixture ${rel}: [${table}] must hold one table per entity, e.g. [${table}.Q1]`, { file, table });
    ids[table] = {};
    for (const [name, fields] of Object.entries(group)) {
      if (!isRecord(fields)) throw new InvalidOperation(`fixture ${rel}: ${table}.${name} must be a table of fields`, { file, table, name });
      ids[table][name] = store.newEntityId();
      pendingFields.push({ table, name, fields });
    }
  }
  const resolve = (v: unknown, where: string): unknown => {
    if (typeof v !== "string") return v;
    const m = REF.exec(v);
    if (!m) return v;
    // Names of this file first, then of fixtures the test loaded before it.
    const id = ids[m[1]]?.[m[2]] ?? known[m[1]]?.[m[2]];
    if (!id) throw new InvalidOperation(`fixture ${rel}: ${where} refers to ${v}, which the fixture does not declare`, { file, ref: v });
    return id;
  };
  for (const { table, name, fields } of pendingFields) {
    const resolved: Fields = {};
    for (const [k, v] of Object.entries(fields)) resolved[k] = toField(resolve(v, `${table}.${name}.${k}`));
    ops.push({ op: "CreateEntity", id: ids[table][name], tables: [table], fields: resolved });
  }
  for (const key of EDGE_KEYS) {
    const list = doc[key];
    if (list === undefined) continue;
    if (!Array.isArray(list)) throw new InvalidOperation(`fixture ${rel}: ${key} must be a list ([[${key}]])`, { file });
    ids[key] = {};
    list.forEach((raw: unknown, i) => {
      const at = `${key}[${i + 1}]`;
      if (!isRecord(raw)) throw new InvalidOperation(`fixture ${rel}: ${at} must be a table`, { file });
      const { type, source, target, name, properties } = raw;
      if (typeof type !== "string" || typeof source !== "string" || typeof target !== "string") {
        throw new InvalidOperation(`fixture ${rel}: ${at} needs type, source and target (strings, refs like "@table.name")`, { file });
      }
      const edgeId = `edge-${store.newEntityId()}`;
      ids[key][typeof name === "string" ? name : String(i + 1)] = edgeId;
      const ends = { type, source: String(resolve(source, `${at}.source`)), target: String(resolve(target, `${at}.target`)) };
      const props = isRecord(properties) ? { properties: toField(properties) as Fields } : {};
      ops.push(key === "edges" ? { op: "CreateEdge", edgeId, ...ends, ...props } : { op: "CreateOrderedEdge", edgeId, ...ends, ...props });
    });
  }
  if (ops.length > 0) {
    try {
      await store.apply(ops, { actor: { kind: "user", name: "openprod-test" }, origin: { fixture: rel } });
    } catch (e) {
      throw new InvalidOperation(`fixture ${rel}: ${(e as Error).message}`, { file });
    }
  }
  return ids;
}
