/**
 * Fixtures: entities, edges and ordered edges declared by table in a TOML or JSON file, created
 * in the scratch workspace as one bundle, with names the test refers to them by.
 *
 *   [lighting_cues.Q1]            # table lighting_cues, fixture name Q1
 *   label = "Top of show"
 *   scene = "@scenes.act1"        # "@table.name": the id of another fixture entity
 *   [[edges]]                     # type, source, target (refs), properties
 *   [[ordered_edges]]             # same, created in file order (the order of the edge list)
 */
import { readFile } from "node:fs/promises";
import path from "node:path";
import { parse as parseToml } from "smol-toml";
import { InvalidOperation } from "../crdt/index.ts";
import type { FieldValue, Fields, Operation, WorkspaceStore } from "../crdt/index.ts";

/** table → fixture name → entity id; `edges` → name (or index) → edge id. */
export type FixtureIds = Record<string, Record<string, string>>;

const EDGE_KEYS = ["edges", "ordered_edges"] as const;
const REF = /^@([^.]+)\.(.+)$/;

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v) && !(v instanceof Date);
}

async function readFixture(file: string, rel: string): Promise<Record<string, unknown>> {
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch {
    throw new InvalidOperation(`fixture ${rel} not found (looked at ${file})`, { file });
  }
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
 * `label` is how errors name the file (the path as the test wrote it).
 */
export async function loadFixture(store: WorkspaceStore, file: string, label = path.basename(file)): Promise<FixtureIds> {
  const rel = label;
  const doc = await readFixture(file, rel);
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
    const id = ids[m[1]]?.[m[2]];
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
