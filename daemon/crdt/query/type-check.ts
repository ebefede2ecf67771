/**
 * A comparison that can never hold because the value is of another kind than
 * the field (`label == 5`, `number == '5'`, `number CONTAINS 'x'`) is a
 * mistake, not an empty result: it is an InvalidOperation saying so. Runs on
 * the bound query, where field keys are resolved and placeholders bound.
 */
import { InvalidOperation } from "../errors.ts";
import type { BoundExpr, BoundOperand } from "./bound.ts";
import type { QueryValue } from "./values.ts";

/** What kind of query value a field type holds; null: any (json) or not comparable. */
function kindOf(fieldType: string): "string" | "number" | "boolean" | null {
  switch (fieldType) {
    case "string":
    case "text":
    case "ref":
      return "string";
    case "int":
    case "float":
      return "number";
    case "bool":
      return "boolean";
    default:
      return null;
  }
}

export function checkComparisonTypes(source: string, e: BoundExpr, fieldType: (key: string) => string | undefined): void {
  const check = (field: BoundOperand, value: QueryValue, op: string): void => {
    if (field.k !== "field" || value === null) return;
    const type = fieldType(field.key);
    const want = type === undefined ? null : kindOf(type);
    const text = op === "CONTAINS" || op === "STARTS WITH";
    if (text && typeof value !== "string") fail(source, `${op} matches text: give a string, not ${describe(value)}`, field.key, value);
    if (want === null) return;
    if (text && want !== "string") fail(source, `${op} matches text, and field ${field.key} is ${type}`, field.key, value);
    if (typeof value !== want) {
      const hint = want === "string" && typeof value === "number" ? ` (quote it: '${value}')` : want === "number" && typeof value === "string" ? " (write the number without quotes)" : "";
      fail(source, `field ${field.key} is ${type} and cannot equal ${describe(value)}${hint}`, field.key, value);
    }
  };
  switch (e.k) {
    case "cmp":
      if (e.l.k === "field" && e.r.k === "const") check(e.l, e.r.v, e.op);
      else if (e.r.k === "field" && e.l.k === "const") check(e.r, e.l.v, e.op);
      return;
    case "in":
      for (const v of e.vs) check(e.o, v, "IN");
      return;
    case "not":
      return checkComparisonTypes(source, e.e, fieldType);
    case "and":
    case "or":
      for (const x of e.es) checkComparisonTypes(source, x, fieldType);
      return;
    case "table":
      return;
  }
}

function describe(v: QueryValue): string {
  return typeof v === "string" ? `the string ${JSON.stringify(v)}` : typeof v === "number" ? `the number ${v}` : `the boolean ${String(v)}`;
}

function fail(source: string, problem: string, field: string, value: QueryValue): never {
  throw new InvalidOperation(`query ${JSON.stringify(source)}: ${problem}`, { query: source, field, value });
}
