/**
 * What an entity is called wherever it is shown (CLI, console, errors): its
 * table's `display` template (`"Q{number} {label}"`) filled from its fields,
 * else the first of its label/name/title fields, else its table and a short
 * id. One rule, so the CLI and the console name an entity alike.
 */
import type { FieldValue } from "./operations.ts";
import type { Schema } from "./schema.ts";

/** The parts of an entity a name is made from (an EntityView has them all). */
export interface NameableEntity {
  id: string;
  tables: Record<string, unknown>;
  fields: Record<string, FieldValue>;
  deleted?: string | boolean | null;
}

/** Fields tried, in order, when no table of the entity declares `display`. */
const FALLBACK_FIELDS = ["label", "name", "title"];
const PLACEHOLDER = /\{([A-Za-z][A-Za-z0-9_.]*)\}/g;

/** The placeholders of a display template, in order (`"Q{number} {label}"` → number, label). */
export function displayPlaceholders(template: string): string[] {
  return [...template.matchAll(PLACEHOLDER)].map((m) => m[1]);
}

/** The last 6 characters of an id: enough to tell entities apart on screen (ULIDs differ at the end). */
export function shortId(id: string): string {
  return id.length > 8 ? `…${id.slice(-6)}` : id;
}

export function entityName(e: NameableEntity, schema: Schema): string {
  const tables = Object.keys(e.tables);
  for (const t of tables) {
    const template = schema.tables.get(t)?.display;
    if (template === undefined) continue;
    const filled = template.replace(PLACEHOLDER, (_m, name: string) => text(fieldOf(e.fields, name))).replace(/\s+/g, " ").trim();
    // A template whose fields are all unset says nothing: fall through to the fallback.
    if (filled !== "" && displayPlaceholders(template).some((p) => fieldOf(e.fields, p) !== undefined)) return filled;
  }
  for (const f of FALLBACK_FIELDS) {
    const v = fieldOf(e.fields, f);
    if (typeof v === "string" && v.trim() !== "") return v.trim();
  }
  return `${tables[0] ?? "entity"} ${shortId(e.id)}`;
}

/** A field by full key (`lighting.cue.number`), `module.field`, or short name; undefined when the entity has none. */
export function fieldOf(fields: Record<string, FieldValue>, name: string): FieldValue | undefined {
  if (name in fields) return fields[name];
  const parts = name.split(".");
  for (const [key, v] of Object.entries(fields)) {
    const kp = key.split(".");
    if (kp[kp.length - 1] !== parts[parts.length - 1]) continue;
    if (parts.length === 1 || (parts.length === 2 && kp[0] === parts[0])) return v;
  }
  return undefined;
}

function text(v: FieldValue | undefined): string {
  if (v === undefined || v === null) return "";
  return typeof v === "string" ? v : JSON.stringify(v);
}
