/**
 * Syntax tree of a query or condition. It is syntax only (names as written,
 * placeholders unbound) so it can be cached by source text and shared.
 * Columns are 1-based positions in the source, kept for error messages.
 */
import type { ScalarValue } from "./values.ts";

export type Operand =
  | { readonly kind: "field"; readonly name: string; readonly column: number }
  | { readonly kind: "literal"; readonly value: ScalarValue; readonly column: number }
  | { readonly kind: "param"; readonly index: number; readonly column: number };

/**
 * `=` is read as `==`, `~=` (Lua's not-equal) as `!=`. CONTAINS and STARTS WITH
 * match text ignoring case (`label CONTAINS 'black'`); the field comes first.
 */
export type CompareOp = "==" | "!=" | "<" | "<=" | ">" | ">=" | "CONTAINS" | "STARTS WITH";

export type Expr =
  | {
      readonly kind: "compare";
      readonly op: CompareOp;
      readonly left: Operand;
      readonly right: Operand;
    }
  | { readonly kind: "in"; readonly operand: Operand; readonly items: readonly Operand[] }
  | { readonly kind: "not"; readonly expr: Expr }
  /** n-ary; nested ANDs (parenthesised or not) are flattened into one. */
  | { readonly kind: "and"; readonly items: readonly Expr[] }
  | { readonly kind: "or"; readonly items: readonly Expr[] };

export interface OrderKey {
  readonly field: { readonly name: string; readonly column: number };
  readonly descending: boolean;
}

export type LimitOperand =
  | { readonly kind: "literal"; readonly value: number; readonly column: number }
  | { readonly kind: "param"; readonly index: number; readonly column: number };

export interface ParsedQuery {
  readonly source: string;
  readonly where: Expr;
  readonly orderBy: readonly OrderKey[];
  readonly limit: LimitOperand | null;
  /** Number of `?` placeholders, LIMIT's included. */
  readonly paramCount: number;
}

/** A trigger's `when` expression: the query grammar without ORDER BY, LIMIT or `?`. */
export interface ParsedCondition {
  readonly source: string;
  readonly where: Expr;
}
