/**
 * `openprod import`: rows from a CSV or JSON file turned into field values of
 * one table, checked against the schema before anything is written. Every
 * bad cell is reported with its row and column; one bad cell writes nothing.
 */
import type { SchemaResult } from "../../protocol/index.ts";
import type { FieldValue } from "../../protocol/index.ts";
import { InvalidOperation, suggest } from "../crdt/vocabulary.ts";

export interface ImportRow {
  /** 1-based data row (CSV: the header is row 0; its line in the file is row + 1). */
  row: number;
  line: number | null;
  fields: Record<string, FieldValue>;
}

export interface RowError {
  row: number;
  line: number | null;
  column: string;
  message: string;
}

type FieldInfo = SchemaResult["facets"][number]["fields"][number];

/** Rows of a file: `.csv` (header line, RFC 4180 quoting) or `.json` (an array of objects). */
export function readRows(file: string, text: string): { rows: { row: number; line: number | null; cells: Record<string, unknown> }[]; columns: string[] } {
  if (/\.json$/i.test(file)) {
    let data: unknown;
    try {
      data = JSON.parse(text);
    } catch (e) {
      throw new InvalidOperation(`${file} is not valid JSON: ${(e as Error).message}`, { file });
    }
    if (!Array.isArray(data)) throw new InvalidOperation(`${file} must hold a JSON array of objects (one per entity), got ${typeof data}`, { file });
    const columns = new Set<string>();
    const rows = data.map((item: unknown, i) => {
      if (typeof item !== "object" || item === null || Array.isArray(item)) {
        throw new InvalidOperation(`${file}: row ${i + 1} is not an object ({"field": value, ...})`, { file, row: i + 1 });
      }
      for (const k of Object.keys(item)) columns.add(k);
      return { row: i + 1, line: null, cells: item as Record<string, unknown> };
    });
    return { rows, columns: [...columns] };
  }
  if (!/\.csv$/i.test(file)) throw new InvalidOperation(`${file}: import reads .csv or .json files`, { file });
  const records = parseCsv(file, text);
  if (records.length === 0) throw new InvalidOperation(`${file} is empty: the first line names the columns (fields)`, { file });
  const [header, ...body] = records;
  const columns = header.cells.map((c) => c.trim());
  const rows = body
    .filter((r) => r.cells.some((c) => c.trim() !== ""))
    .map((r, i) => {
      if (r.cells.length > columns.length) {
        throw new InvalidOperation(`${file}:${r.line}: row ${i + 1} has ${r.cells.length} cells, the header names ${columns.length} columns`, { file, row: i + 1, line: r.line });
      }
      return { row: i + 1, line: r.line, cells: Object.fromEntries(columns.map((c, j) => [c, r.cells[j] ?? ""])) };
    });
  return { rows, columns };
}

/** Quoted cells may hold commas, quotes (doubled) and line breaks. */
function parseCsv(file: string, text: string): { line: number; cells: string[] }[] {
  const out: { line: number; cells: string[] }[] = [];
  let cells: string[] = [];
  let cell = "";
  let quoted = false;
  let line = 1;
  let start = 1;
  const src = text.replace(/^\uFEFF/, "");
  for (let i = 0; i < src.length; i++) {
    const c = src[i];
    if (quoted) {
      if (c === '"' && src[i + 1] === '"') {
        cell += '"';
        i++;
      } else if (c === '"') quoted = false;
      else {
        if (c === "\n") line++;
        cell += c;
      }
      continue;
    }
    if (c === '"' && cell.trim() === "") {
      quoted = true;
      cell = "";
    } else if (c === ",") {
      cells.push(cell);
      cell = "";
    } else if (c === "\n" || c === "\r") {
      if (c === "\r" && src[i + 1] === "\n") i++;
      cells.push(cell);
      out.push({ line: start, cells });
      cells = [];
      cell = "";
      line++;
      start = line;
    } else cell += c;
  }
  if (quoted) throw new InvalidOperation(`${file}:${start}: a quoted cell is not closed (missing ")`, { file, line: start });
  if (cell !== "" || cells.length) {
    cells.push(cell);
    out.push({ line: start, cells });
  }
  return out;
}

/** The fields a table's members carry, by every name a column may use (short, module.field, full key). */
export function tableFields(schema: SchemaResult, table: string): Map<string, FieldInfo> {
  const t = schema.tables.find((x) => x.name === table);
  if (!t) throw new InvalidOperation(`unknown table "${table}"${suggest(table, schema.tables.map((x) => x.name))}`, { table });
  const byName = new Map<string, FieldInfo>();
  const short = new Map<string, FieldInfo[]>();
  for (const fk of t.facets) {
    const facet = schema.facets.find((f) => f.key === fk);
    for (const f of facet?.fields ?? []) {
      byName.set(f.key, f);
      byName.set(`${facet?.module}.${f.name}`, f);
      short.set(f.name, [...(short.get(f.name) ?? []), f]);
    }
  }
  // A short name two facets share is ambiguous: only the longer forms then.
  for (const [name, defs] of short) if (defs.length === 1) byName.set(name, defs[0]);
  return byName;
}

/** Each row's cells as typed field values (by full key); every bad cell is an error naming its row and column. */
export function typedRows(
  rows: readonly { row: number; line: number | null; cells: Record<string, unknown> }[],
  columns: readonly string[],
  fields: Map<string, FieldInfo>,
): { rows: ImportRow[]; errors: RowError[] } {
  const errors: RowError[] = [];
  for (const c of columns) {
    if (!fields.has(c)) {
      errors.push({ row: 0, line: rows[0]?.line === null ? null : 1, column: c, message: `unknown field "${c}"${suggest(c, [...fields.keys()])} (the table's fields: ${[...new Set([...fields.values()].map((f) => f.name))].join(", ")})` });
    }
  }
  if (errors.length) return { rows: [], errors };
  const out: ImportRow[] = [];
  for (const r of rows) {
    const typed: Record<string, FieldValue> = {};
    for (const [column, raw] of Object.entries(r.cells)) {
      const def = fields.get(column) as FieldInfo;
      const v = convert(raw, def.type);
      if (v.ok) {
        if (v.value !== undefined) typed[def.key] = v.value;
      } else errors.push({ row: r.row, line: r.line, column, message: v.message });
    }
    out.push({ row: r.row, line: r.line, fields: typed });
  }
  return { rows: out, errors };
}

type Converted = { ok: true; value: FieldValue | undefined } | { ok: false; message: string };

/** A cell as the field's type: CSV text is parsed, JSON values are checked. An empty cell sets nothing. */
function convert(raw: unknown, type: string): Converted {
  if (raw === "" || raw === undefined) return { ok: true, value: undefined };
  if (raw === null) return { ok: true, value: null };
  const bad = (what: string): Converted => ({ ok: false, message: `${JSON.stringify(raw)} is not ${what}` });
  switch (type) {
    case "int": {
      const n = typeof raw === "string" ? Number(raw.trim()) : raw;
      return typeof n === "number" && Number.isInteger(n) ? { ok: true, value: n } : bad("a whole number (int field)");
    }
    case "float": {
      const n = typeof raw === "string" ? Number(raw.trim()) : raw;
      return typeof n === "number" && Number.isFinite(n) && !(typeof raw === "string" && raw.trim() === "") ? { ok: true, value: n } : bad("a number (float field)");
    }
    case "bool": {
      if (typeof raw === "boolean") return { ok: true, value: raw };
      const t = typeof raw === "string" ? raw.trim().toLowerCase() : "";
      if (["true", "yes", "1"].includes(t)) return { ok: true, value: true };
      if (["false", "no", "0"].includes(t)) return { ok: true, value: false };
      return bad("true or false (bool field)");
    }
    case "json":
    case "list": {
      let v: unknown = raw;
      if (typeof raw === "string") {
        try {
          v = JSON.parse(raw);
        } catch {
          return bad(`JSON (${type} field)`);
        }
      }
      if (type === "list" && !Array.isArray(v)) return bad("a JSON list (list field)");
      return { ok: true, value: v as FieldValue };
    }
    default:
      // string, text, ref: text as written; a JSON number is taken as its text.
      return typeof raw === "string" ? { ok: true, value: raw } : typeof raw === "number" ? { ok: true, value: String(raw) } : bad(`text (${type} field)`);
  }
}
