/**
 * Decides whether one entity matches a bound expression. Two-valued logic: a
 * comparison with nil is simply true or false (`f != 1` holds for an unset f,
 * `f < 1` does not), so NOT always flips the answer.
 */
import type { ParsedCondition } from "./ast.ts";
import { bindCondition } from "./bind.ts";
import type { BoundExpr, BoundOperand, EntityReader } from "./bound.ts";
import { compareOrdered, toQueryValue, valuesEqual } from "./values.ts";
import type { QueryValue } from "./values.ts";

export function matches(e: BoundExpr, id: string, reader: EntityReader): boolean {
  switch (e.k) {
    case "cmp": {
      const a = operandValue(e.l, id, reader);
      const b = operandValue(e.r, id, reader);
      switch (e.op) {
        case "==":
          return valuesEqual(a, b);
        case "!=":
          return !valuesEqual(a, b);
        case "<": {
          const c = compareOrdered(a, b);
          return c !== undefined && c < 0;
        }
        case "<=": {
          const c = compareOrdered(a, b);
          return c !== undefined && c <= 0;
        }
        case ">": {
          const c = compareOrdered(a, b);
          return c !== undefined && c > 0;
        }
        case ">=": {
          const c = compareOrdered(a, b);
          return c !== undefined && c >= 0;
        }
        case "CONTAINS":
          return typeof a === "string" && typeof b === "string" && a.toLowerCase().includes(b.toLowerCase());
        case "STARTS WITH":
          return typeof a === "string" && typeof b === "string" && a.toLowerCase().startsWith(b.toLowerCase());
      }
      return false;
    }
    case "in": {
      const a = operandValue(e.o, id, reader);
      for (const v of e.vs) if (valuesEqual(a, v)) return true;
      return false;
    }
    case "table":
      for (const t of e.tables) if (reader.inTable(id, t)) return true;
      return false;
    case "not":
      return !matches(e.e, id, reader);
    case "and":
      for (const x of e.es) if (!matches(x, id, reader)) return false;
      return true;
    case "or":
      for (const x of e.es) if (matches(x, id, reader)) return true;
      return false;
  }
}

export function operandValue(o: BoundOperand, id: string, reader: EntityReader): QueryValue {
  switch (o.k) {
    case "const":
      return o.v;
    case "id":
      return id;
    case "field":
      return toQueryValue(reader.readField(id, o.key));
  }
}

const boundConditions = new WeakMap<ParsedCondition, BoundExpr>();

/**
 * Evaluate a trigger condition; every name in it (`new_value`,
 * `source.channel`) is read through `lookup`, undefined meaning nil.
 */
export function evaluateCondition(cond: ParsedCondition, lookup: (name: string) => unknown): boolean {
  let bound = boundConditions.get(cond);
  if (bound === undefined) {
    bound = bindCondition(cond);
    boundConditions.set(cond, bound);
  }
  return matches(bound, "", {
    readField: (_id, name) => lookup(name),
    inTable: () => false,
  });
}
