/** How values, people and entities read on screen. */
import type { FieldValue } from "../protocol/light.ts";

export function showValue(v: FieldValue | undefined): string {
  if (v === null || v === undefined) return "—";
  if (typeof v === "string") return v;
  return JSON.stringify(v);
}

const NAME_FIELDS = ["name", "label", "title", "unit_number", "number"];

/** An entity as a person knows it: its name, label or number (by short field name), else its id. */
export function entityLabel(id: string, fields: Record<string, FieldValue> | undefined): string {
  if (!fields) return id;
  for (const want of NAME_FIELDS) {
    for (const [k, v] of Object.entries(fields)) {
      if ((k === want || k.endsWith(`.${want}`)) && v !== null && v !== "") return `${showValue(v)}`;
    }
  }
  return id;
}

export function actorName(actor: unknown): string {
  if (actor && typeof actor === "object" && "name" in actor) {
    const a = actor as { kind?: string; name: string };
    return a.kind === "script" ? `script ${a.name}` : a.name;
  }
  return "unknown";
}

/** `lighting.cue.number` → `number`. */
export function shortField(key: string): string {
  const i = key.lastIndexOf(".");
  return i >= 0 ? key.slice(i + 1) : key;
}

/** Parses what a person typed into a cell: numbers, booleans, JSON, else the text itself. */
export function parseInput(text: string, type: string | undefined): FieldValue {
  const t = text.trim();
  if (t === "") return null;
  if (type === "int" || type === "float") {
    const n = Number(t);
    if (!Number.isNaN(n)) return n;
  }
  if (type === "bool") return t === "true" || t === "yes" || t === "1";
  if (type === "json" || type === "list") {
    try {
      return JSON.parse(t) as FieldValue;
    } catch {
      return t;
    }
  }
  return text;
}

export function clock(ms: number | string): string {
  const d = new Date(typeof ms === "string" ? Number(ms.split(".")[0]) || ms : ms);
  return Number.isNaN(d.getTime()) ? String(ms) : d.toLocaleTimeString();
}
