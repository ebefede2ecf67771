/**
 * `on_field_change` names: `module.facet.field` (the full key), or the short
 * forms `facet.field`, `module.field` and `field` when only one field of the
 * schema answers to them.
 */
import { suggest } from "../crdt/vocabulary.ts";
import type { FieldDef, Schema } from "../crdt/vocabulary.ts";

/** The field, or the reason the name does not pick exactly one. */
export function resolveWatchedField(schema: Schema, name: string): FieldDef | string {
  const found = new Map<string, FieldDef>();
  for (const f of schema.candidates(name)) found.set(f.key, f);
  const parts = name.split(".");
  if (parts.length === 2) {
    const facet = parts[0].toLowerCase();
    for (const f of schema.fields.values()) {
      if (f.facet.toLowerCase() === facet && f.name === parts[1]) found.set(f.key, f);
    }
  }
  if (found.size === 1) return [...found.values()][0];
  if (found.size > 1) {
    return `"${name}" is ambiguous: it could be ${[...found.keys()].join(" or ")}; write the full "module.facet.field"`;
  }
  const known = [...schema.fields.keys()];
  return `unknown field "${name}"${suggest(name, known)}; write "module.facet.field", e.g. "${known[0] ?? "lighting.cue.status"}"`;
}
