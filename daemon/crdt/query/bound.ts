/**
 * A query with its placeholders bound and its field names resolved to
 * storage keys: what the planner and the evaluator work on.
 */
import type { CompareOp } from "./ast.ts";
import type { QueryValue } from "./values.ts";

export type BoundOperand =
  | { readonly k: "const"; readonly v: QueryValue }
  | { readonly k: "field"; readonly key: string }
  /** The entity's own id (`id` pseudo-field). */
  | { readonly k: "id" };

export type BoundExpr =
  | { readonly k: "cmp"; readonly op: CompareOp; readonly l: BoundOperand; readonly r: BoundOperand }
  | { readonly k: "in"; readonly o: BoundOperand; readonly vs: readonly QueryValue[] }
  /** Member of any of these tables (`table == 'x'`, `table IN (...)`). */
  | { readonly k: "table"; readonly tables: readonly string[] }
  | { readonly k: "not"; readonly e: BoundExpr }
  | { readonly k: "and"; readonly es: readonly BoundExpr[] }
  | { readonly k: "or"; readonly es: readonly BoundExpr[] };

/** What evaluation reads about the entity being tested. */
export interface EntityReader {
  readField(entityId: string, key: string): unknown;
  inTable(entityId: string, table: string): boolean;
}
