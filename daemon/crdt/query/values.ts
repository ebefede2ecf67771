/**
 * Value semantics shared by query evaluation, ORDER BY and the equality index,
 * so that an indexed lookup and a filtered scan can never disagree.
 *
 * - nil: `undefined` and `null` are the same value, "unset".
 * - Numbers compare numerically (1 == 1.0); a string never equals a number.
 * - Anything that is not a string, number, boolean or nil (json objects,
 *   lists, CRDT text handles) equals nothing and orders against nothing.
 */

export type ScalarValue = string | number | boolean | null;

/** Marker for values the query language cannot compare (json, lists...). */
export const OPAQUE: unique symbol = Symbol("opaque");
export type QueryValue = ScalarValue | typeof OPAQUE;

export function toQueryValue(v: unknown): QueryValue {
  if (v === undefined || v === null) return null;
  switch (typeof v) {
    case "string":
    case "number":
    case "boolean":
      return v;
    case "bigint":
      return Number(v);
    default:
      return OPAQUE;
  }
}

/** `a == b` in the query language. */
export function valuesEqual(a: QueryValue, b: QueryValue): boolean {
  if (a === OPAQUE || b === OPAQUE) return false;
  // Strict equality already gives numeric equality for numbers and keeps
  // strings, numbers and booleans apart; NaN equals nothing, as in Lua.
  return a === b;
}

/**
 * Ordering for `< <= > >=`: a negative/zero/positive number, or `undefined`
 * when the two values do not order (nil, mixed types, booleans, opaque).
 */
export function compareOrdered(a: QueryValue, b: QueryValue): number | undefined {
  if (typeof a === "number" && typeof b === "number") {
    if (Number.isNaN(a) || Number.isNaN(b)) return undefined;
    return a < b ? -1 : a > b ? 1 : 0;
  }
  if (typeof a === "string" && typeof b === "string") return a < b ? -1 : a > b ? 1 : 0;
  return undefined;
}

/**
 * Total order used by ORDER BY for non-nil values: booleans (false, true),
 * then numbers, then strings, then opaque values. Mixed types still sort
 * deterministically so every peer shows the same order.
 */
export function compareForSort(a: QueryValue, b: QueryValue): number {
  const ra = sortRank(a);
  const rb = sortRank(b);
  if (ra !== rb) return ra - rb;
  if (typeof a === "number" && typeof b === "number") {
    if (Number.isNaN(a)) return Number.isNaN(b) ? 0 : 1;
    if (Number.isNaN(b)) return -1;
    return a - b;
  }
  if (typeof a === "string" && typeof b === "string") return a < b ? -1 : a > b ? 1 : 0;
  if (typeof a === "boolean" && typeof b === "boolean") return Number(a) - Number(b);
  return 0;
}

function sortRank(v: QueryValue): number {
  if (typeof v === "boolean") return 0;
  if (typeof v === "number") return 1;
  if (typeof v === "string") return 2;
  return 3;
}

/** How a value reads in an error message: `"A1"`, `42`, `nil`, `a table`. */
export function describeValue(v: unknown): string {
  if (v === undefined || v === null) return "nil";
  if (typeof v === "string") return JSON.stringify(v);
  if (typeof v === "number" || typeof v === "boolean" || typeof v === "bigint") return String(v);
  if (Array.isArray(v)) return "a list";
  return `a ${typeof v === "object" ? "table" : typeof v}`;
}
