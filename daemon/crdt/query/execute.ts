/**
 * Runs a parsed query against a source: bind, plan, filter, order, limit.
 * Results are entity ids, deterministic on every peer: without ORDER BY in id
 * order; with it, nil values last in either direction and ties by id.
 */
import type { ParsedQuery } from "./ast.ts";
import { bindQuery } from "./bind.ts";
import type { BoundOrderKey } from "./bind.ts";
import { matches, operandValue } from "./evaluate.ts";
import { candidates } from "./plan.ts";
import { checkComparisonTypes } from "./type-check.ts";
import type { QuerySource } from "./source.ts";
import { compareForSort } from "./values.ts";
import type { QueryValue } from "./values.ts";

export function executeQuery(q: ParsedQuery, params: readonly unknown[], src: QuerySource): string[] {
  const bound = bindQuery(q, params, src);
  if (src.fieldType) checkComparisonTypes(q.source, bound.where, (key) => src.fieldType?.(key));
  if (bound.limit === 0) return [];
  const planned = candidates(bound.where, bound.tables, src);
  const ids: string[] = [];
  for (const id of planned ?? src.allEntities()) {
    if (matches(bound.where, id, src)) ids.push(id);
  }
  const ordered = bound.orderBy.length === 0 ? ids.sort(byId) : orderBy(ids, bound.orderBy, src);
  return bound.limit !== null && ordered.length > bound.limit ? ordered.slice(0, bound.limit) : ordered;
}

function orderBy(ids: string[], keys: readonly BoundOrderKey[], src: QuerySource): string[] {
  // Read each sort value once, not once per comparison.
  const rows = ids.map((id) => ({ id, values: keys.map((k) => operandValue(k.operand, id, src)) }));
  rows.sort((a, b) => {
    for (let i = 0; i < keys.length; i++) {
      const c = compareKey(a.values[i], b.values[i], keys[i].descending);
      if (c !== 0) return c;
    }
    return byId(a.id, b.id);
  });
  return rows.map((r) => r.id);
}

function compareKey(a: QueryValue, b: QueryValue, descending: boolean): number {
  if (a === null) return b === null ? 0 : 1;
  if (b === null) return -1;
  const c = compareForSort(a, b);
  return descending ? -c : c;
}

function byId(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
