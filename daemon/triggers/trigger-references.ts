/**
 * The names a trigger can refer to, in `params` (`$source`, `$source.<field>`,
 * `$scope_entity_id`, `$old_value`, `$new_value`) and in `when` (the same
 * without `$`). Resolved at load so a typo is a config error, not a silent nil.
 */
import type { Expr, Operand } from "../crdt/query/index.ts";
import { suggest } from "../crdt/vocabulary.ts";
import type { FieldDef, Schema } from "../crdt/vocabulary.ts";
import type { ParamSource } from "./trigger-def.ts";
import { resolveWatchedField } from "./watched-field.ts";

export const REFERENCES = ["source", "source.<field>", "scope_entity_id", "old_value", "new_value"];

/** What a reference name (without `$`) stands for, or why it stands for nothing. */
export function resolveReference(schema: Schema, watched: FieldDef, name: string): ParamSource | string {
  switch (name) {
    case "source":
      return { kind: "source" };
    case "scope_entity_id":
      return { kind: "scope_entity_id" };
    case "old_value":
      return { kind: "old_value" };
    case "new_value":
      return { kind: "new_value" };
  }
  if (name.startsWith("source.")) {
    const field = sourceField(schema, watched, name.slice("source.".length));
    return typeof field === "string" ? field : { kind: "source_field", field };
  }
  return `unknown reference "${name}"; the references are ${REFERENCES.join(", ")}`;
}

/**
 * A field of the changed entity: the watched field's own facet is tried
 * first, so `source.number` on a cue trigger means the cue's number even if
 * another facet also has a `number`.
 */
function sourceField(schema: Schema, watched: FieldDef, name: string): FieldDef | string {
  if (name === "") return `"source." must name a field, e.g. "source.${watched.name}"`;
  const own = schema.candidates(name).filter((f) => f.facetKey === watched.facetKey);
  if (own.length === 1) return own[0];
  const found = resolveWatchedField(schema, name);
  if (typeof found !== "string" || schema.candidates(name).length > 0) return found;
  const names = schema.fieldsOf([watched.facetKey]).map((f) => f.name);
  return `unknown field "${name}"${suggest(name, names)}; ${watched.facetKey} has ${names.join(", ")}`;
}

/** Every name a condition reads (and every "?"), with its column. */
export function conditionNames(e: Expr): { name: string; column: number }[] {
  const out: { name: string; column: number }[] = [];
  const operand = (o: Operand): void => {
    // A "?" placeholder is reported as the name "?": conditions have no parameters to bind.
    if (o.kind === "field") out.push({ name: o.name, column: o.column });
    else if (o.kind === "param") out.push({ name: "?", column: o.column });
  };
  const visit = (x: Expr): void => {
    switch (x.kind) {
      case "compare":
        operand(x.left);
        operand(x.right);
        return;
      case "in":
        operand(x.operand);
        x.items.forEach(operand);
        return;
      case "not":
        visit(x.expr);
        return;
      case "and":
      case "or":
        x.items.forEach(visit);
    }
  };
  visit(e);
  return out;
}
