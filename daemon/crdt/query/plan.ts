/**
 * Chooses the entities worth testing, from indexes only: table membership for
 * `table == x`, the equality index for `field == value`. A top-level AND
 * intersects its indexable parts starting from the smallest set; an OR whose
 * branches are all indexable is their union. `null` means nothing indexable
 * constrains the expression and the caller has to scan.
 *
 * Candidates are a superset of the answer: every one is still tested
 * against the whole expression, so the plan never changes what matches.
 */
import type { BoundExpr, BoundOperand } from "./bound.ts";
import type { QuerySource } from "./source.ts";
import { OPAQUE } from "./values.ts";
import type { QueryValue, ScalarValue } from "./values.ts";

const EMPTY: ReadonlySet<string> = new Set<string>();

export function candidates(
  e: BoundExpr,
  tables: ReadonlyMap<string, ReadonlySet<string>>,
  src: QuerySource,
): ReadonlySet<string> | null {
  switch (e.k) {
    case "table":
      return union(e.tables.map((t) => tables.get(t) ?? EMPTY));
    case "cmp":
      if (e.op !== "==") return null;
      if (e.r.k === "const") return equalTo(e.l, e.r.v, src);
      if (e.l.k === "const") return equalTo(e.r, e.l.v, src);
      return null;
    case "in": {
      const sets: ReadonlySet<string>[] = [];
      for (const v of e.vs) {
        const s = equalTo(e.o, v, src);
        if (s === null) return null;
        sets.push(s);
      }
      return union(sets);
    }
    case "and": {
      const sets: ReadonlySet<string>[] = [];
      for (const x of e.es) {
        const s = candidates(x, tables, src);
        if (s !== null) {
          if (s.size === 0) return EMPTY;
          sets.push(s);
        }
      }
      return sets.length === 0 ? null : intersect(sets);
    }
    case "or": {
      const sets: ReadonlySet<string>[] = [];
      for (const x of e.es) {
        const s = candidates(x, tables, src);
        if (s === null) return null;
        sets.push(s);
      }
      return union(sets);
    }
    case "not":
      return null;
  }
}

function equalTo(o: BoundOperand, v: QueryValue, src: QuerySource): ReadonlySet<string> | null {
  // nil means "unset", which no index can list without knowing every entity.
  if (!indexable(v)) return null;
  if (o.k === "field") return asSet(src.lookupEqual(o.key, v));
  if (o.k === "id" && src.isLive) return typeof v === "string" && src.isLive(v) ? new Set([v]) : EMPTY;
  return null;
}

function indexable(v: QueryValue): v is Exclude<ScalarValue, null> {
  return v !== null && v !== OPAQUE && !(typeof v === "number" && Number.isNaN(v));
}

function asSet(ids: Iterable<string>): ReadonlySet<string> {
  return ids instanceof Set ? (ids as ReadonlySet<string>) : new Set(ids);
}

function intersect(sets: ReadonlySet<string>[]): ReadonlySet<string> {
  if (sets.length === 1) return sets[0];
  sets.sort((a, b) => a.size - b.size);
  const [smallest, ...rest] = sets;
  const out = new Set<string>();
  outer: for (const id of smallest) {
    for (const s of rest) if (!s.has(id)) continue outer;
    out.add(id);
  }
  return out;
}

function union(sets: ReadonlySet<string>[]): ReadonlySet<string> {
  if (sets.length === 1) return sets[0];
  const out = new Set<string>();
  for (const s of sets) for (const id of s) out.add(id);
  return out;
}
