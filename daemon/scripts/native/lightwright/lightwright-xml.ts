/**
 * The Lightwright ↔ Vectorworks data exchange XML, read into plain data and written back.
 *
 *   <SLData>
 *     <ExportFieldList>            the columns: <AppStamp>, <TimeStamp>, then one
 *       <Unit_Number>Unit Number</Unit_Number>   element per column, text = its label
 *     <InstrumentData>
 *       <Action>, <AppStamp>, <VWVersion>       header
 *       <UID_1687_1_1_0_1>         one element per fixture, named after its UID
 *         <UID>1687.1.1.0.1</UID> <Unit_Number>3</Unit_Number> <Channel>12</Channel> ...
 *         <Accessories> <UID_...>...</UID_...> </Accessories>
 *
 * A fixture comes back keyed by column in lower case (`unit_number`, `channel`, `dimmer`,
 * `position`, `wattage`...), with `Inst_Type` as `instrument_type` and `Template`/`Template2`
 * as `gobo`/`gobo_2`. Whole numbers become integers (channel 12, not 12.0), decimals floats;
 * text with a leading zero (a Rosco gobo "00123") stays text. Empty cells are left out.
 */
import { InvalidOperation } from "../../../crdt/vocabulary.ts";
import { LuaFloat } from "../../engine/index.ts";
import type { HostValue } from "../../engine/index.ts";
import { XmlSyntaxError, parseXmlTree } from "./xml-tree.ts";
import type { XmlObject } from "./xml-tree.ts";

type Obj = { [k: string]: HostValue };

export interface LightwrightColumn {
  key: string;
  element: string;
  label: string | null;
}

/** Element name → key where the key is not simply the element name in lower case. */
const KEY_OF: Record<string, string> = { Inst_Type: "instrument_type", Template: "gobo", Template2: "gobo_2" };
const ELEMENT_OF: Record<string, string> = Object.fromEntries(Object.entries(KEY_OF).map(([e, k]) => [k, e]));
const HEADER = new Set(["AppStamp", "TimeStamp", "VWVersion", "Action"]);
/** Where the header elements go in `source`. */
const FIELD_LIST_HEADER: Record<string, string> = { AppStamp: "app_stamp", TimeStamp: "timestamp", VWVersion: "vwversion" };
const DATA_HEADER: Record<string, string> = { Action: "action", AppStamp: "instrument_app_stamp", VWVersion: "vwversion" };
const ELEMENT_NAME = /^[A-Za-z_][A-Za-z0-9_.-]*$/;

const keyOf = (element: string): string => KEY_OF[element] ?? element.toLowerCase();

/** The element for a key no column list names: `unit_number` → `Unit_Number`, `x_location_mm` → `X_Location_Mm`. */
const elementOf = (key: string): string =>
  ELEMENT_OF[key] ??
  key
    .split("_")
    .map((w) => (w === "" ? w : w[0].toUpperCase() + w.slice(1)))
    .join("_");

const INTEGER = /^-?(?:0|[1-9][0-9]{0,15})$/;
const DECIMAL = /^-?(?:0|[1-9][0-9]*)\.[0-9]+$/;

function cell(text: string): HostValue {
  if (INTEGER.test(text)) {
    const n = Number(text);
    if (Number.isSafeInteger(n)) return n;
  }
  if (DECIMAL.test(text)) return new LuaFloat(Number(text));
  return text;
}

function asRecord(v: unknown): Record<string, unknown> | null {
  return v !== null && typeof v === "object" && !Array.isArray(v) ? (v as Record<string, unknown>) : null;
}

/** A fixture element (or an accessory inside one) as plain data. */
function fixture(el: Record<string, unknown>, seen: Map<string, string>): Obj {
  const out: Obj = {};
  for (const [element, raw] of Object.entries(el)) {
    const key = keyOf(element);
    if (!seen.has(key)) seen.set(key, element);
    const value = convert(raw, seen, key);
    if (value !== null) out[key] = value;
  }
  return out;
}

/**
 * Columns that are labels even when they look like numbers: unit 7 on a pipe, dimmer 12 and
 * purpose "2" are names to match on, written to string fields, never arithmetic.
 */
const LABEL_COLUMNS = new Set(["unit_number", "dimmer", "circuit_name", "circuit_number", "position", "purpose", "color", "gobo", "gobo_2", "instrument_type", "focus"]);

function convert(raw: unknown, seen: Map<string, string>, key?: string): HostValue {
  if (typeof raw === "string") return raw === "" ? null : key !== undefined && LABEL_COLUMNS.has(key) ? raw : cell(raw);
  if (Array.isArray(raw)) return raw.map((r) => convert(r, seen)).filter((v) => v !== null);
  const rec = asRecord(raw);
  if (rec === null) return null;
  const keys = Object.keys(rec);
  // A list of UID blocks (accessories) becomes an array in document order.
  if (keys.length > 0 && keys.every((k) => k.startsWith("UID_"))) {
    return keys.flatMap((k) => {
      const items = Array.isArray(rec[k]) ? (rec[k] as unknown[]) : [rec[k]];
      return items.map((i) => fixture(asRecord(i) ?? {}, new Map()));
    });
  }
  return fixture(rec, new Map());
}

/** Parses the export; `file` names it in errors. */
export function parseLightwrightXml(xml: string, file: string): Obj {
  let tree: XmlObject;
  try {
    tree = parseXmlTree(xml);
  } catch (e) {
    if (!(e instanceof XmlSyntaxError)) throw e;
    throw new InvalidOperation(`lightwright.parse("${file}"): not well-formed XML at line ${e.line}, column ${e.column}: ${e.reason}`, { path: file, line: e.line, column: e.column });
  }
  const doc = asRecord(tree);
  const root = asRecord(doc?.SLData);
  if (root === null) {
    const top = doc ? Object.keys(doc).join(", ") : "";
    throw new InvalidOperation(`lightwright.parse("${file}"): expected a Lightwright exchange file with an <SLData> root element, found ${top ? `<${top}>` : "no element"}`, { path: file });
  }
  const data = asRecord(root.InstrumentData);
  if (data === null) throw new InvalidOperation(`lightwright.parse("${file}"): <SLData> has no <InstrumentData> section`, { path: file });

  const columns: LightwrightColumn[] = [];
  const source: Obj = {};
  const fieldList = asRecord(root.ExportFieldList) ?? {};
  for (const [element, label] of Object.entries(fieldList)) {
    if (HEADER.has(element)) {
      if (typeof label === "string" && label !== "") source[FIELD_LIST_HEADER[element] ?? keyOf(element)] = label;
      continue;
    }
    columns.push({ key: keyOf(element), element, label: typeof label === "string" && label !== "" ? label : null });
  }
  const seen = new Map<string, string>();
  const fixtures: Obj[] = [];
  for (const [element, raw] of Object.entries(data)) {
    if (!element.startsWith("UID_")) {
      if (HEADER.has(element) && typeof raw === "string" && raw !== "") source[DATA_HEADER[element] ?? keyOf(element)] = raw;
      continue;
    }
    for (const item of Array.isArray(raw) ? raw : [raw]) fixtures.push(fixture(asRecord(item) ?? {}, seen));
  }
  const listed = new Set(columns.map((c) => c.key));
  for (const [key, element] of seen) if (!listed.has(key)) columns.push({ key, element, label: null });
  return { fixtures, columns: columns.map((c) => ({ ...c })) as HostValue, source };
}

const escape = (s: string): string => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");

function text(v: HostValue): string {
  if (v instanceof LuaFloat) return String(v.value);
  return escape(String(v));
}

/** Serialises `{ fixtures, columns?, source? }` (what parse returns, possibly edited). */
export function serializeLightwrightXml(value: HostValue, file: string): string {
  const data = asRecord(value);
  const list = data?.fixtures;
  if (data === null || !Array.isArray(list)) {
    throw new InvalidOperation(`lightwright.write("${file}", data): data must be a table with a fixtures list, like the one lightwright.parse returns`, { path: file });
  }
  const elementFor = new Map<string, string>();
  const labelFor = new Map<string, string | null>();
  const order: string[] = [];
  for (const c of Array.isArray(data.columns) ? data.columns : []) {
    const col = asRecord(c);
    if (col && typeof col.key === "string") {
      elementFor.set(col.key, typeof col.element === "string" ? col.element : elementOf(col.key));
      labelFor.set(col.key, typeof col.label === "string" ? col.label : null);
      order.push(col.key);
    }
  }
  const fixtures = list.map((f, i) => {
    const rec = asRecord(f);
    if (rec === null) throw new InvalidOperation(`lightwright.write("${file}", data): fixtures[${i + 1}] is a ${Array.isArray(f) ? "list" : typeof f}, expected a table of columns`, { path: file, index: i + 1 });
    for (const k of Object.keys(rec)) {
      if (!elementFor.has(k)) {
        elementFor.set(k, elementOf(k));
        order.push(k);
      }
    }
    return rec;
  });
  for (const [k, el] of elementFor) {
    if (!ELEMENT_NAME.test(el)) throw new InvalidOperation(`lightwright.write("${file}", data): column "${k}" cannot be an XML element name ("${el}")`, { path: file, column: k });
  }
  const src = asRecord(data.source) ?? {};
  const str = (v: unknown, dflt: string | null): string | null => (typeof v === "string" ? v : dflt);
  const out: string[] = ['<?xml version="1.0" encoding="UTF-8"?>', "<SLData>", "  <ExportFieldList>"];
  out.push(`    <AppStamp>${escape(str(src.app_stamp, "Openprod") ?? "")}</AppStamp>`);
  const ts = str(src.timestamp, null);
  if (ts !== null) out.push(`    <TimeStamp>${escape(ts)}</TimeStamp>`);
  for (const k of order) {
    const el = elementFor.get(k) as string;
    if (k === "uid" || (Array.isArray(fixtures[0]?.[k]) && labelFor.get(k) == null)) continue;
    out.push(`    <${el}>${escape(labelFor.get(k) ?? el.replace(/_/g, " "))}</${el}>`);
  }
  out.push("  </ExportFieldList>", "  <InstrumentData>");
  out.push(`    <Action>${escape(str(src.action, "Update") ?? "")}</Action>`);
  out.push(`    <AppStamp>${escape(str(src.instrument_app_stamp, str(src.app_stamp, "Openprod")) ?? "")}</AppStamp>`);
  const vw = str(src.vwversion, null);
  if (vw !== null) out.push(`    <VWVersion>${escape(vw)}</VWVersion>`);
  const block = (f: Record<string, unknown>, i: number, indent: string, nested: boolean): void => {
    const uid = f.uid;
    const tag = `UID_${uid === undefined || uid === null ? String(i + 1) : String(uid instanceof LuaFloat ? uid.value : uid).replace(/[^A-Za-z0-9]/g, "_")}`;
    out.push(`${indent}<${tag}>`);
    for (const k of nested ? Object.keys(f) : order) {
      const v = f[k] as HostValue | undefined;
      if (v === undefined || v === null) continue;
      const el = elementFor.get(k) ?? elementOf(k);
      if (Array.isArray(v)) {
        out.push(`${indent}  <${el}>`);
        v.forEach((a, j) => block(asRecord(a) ?? {}, j, `${indent}    `, true));
        out.push(`${indent}  </${el}>`);
      } else if (typeof v === "object" && !(v instanceof LuaFloat)) {
        throw new InvalidOperation(`lightwright.write("${file}", data): fixtures[${i + 1}].${k} is a table; cells hold text or numbers`, { path: file, index: i + 1, column: k });
      } else {
        out.push(`${indent}  <${el}>${text(v)}</${el}>`);
      }
    }
    out.push(`${indent}</${tag}>`);
  };
  fixtures.forEach((f, i) => block(f, i, "    ", false));
  out.push("  </InstrumentData>", "</SLData>", "");
  return out.join("\n");
}
