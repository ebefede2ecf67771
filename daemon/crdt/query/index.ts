/**
 * The query language: `table == 'lighting_fixtures' AND unit_number == ? ORDER BY channel DESC LIMIT 10`,
 * and trigger conditions (`new_value == 'running' and not (old_value == 'running')`).
 */
export type { CompareOp, Expr, LimitOperand, Operand, OrderKey, ParsedCondition, ParsedQuery } from "./ast.ts";
export type { QuerySource } from "./source.ts";
export type { ScalarValue } from "./values.ts";
export { parseQueryUncached, parseCondition } from "./parser.ts";
export { parseQuery, ParseCache } from "./parse-cache.ts";
export { formatQuery, formatCondition, formatExpr } from "./format.ts";
export { executeQuery } from "./execute.ts";
export { evaluateCondition } from "./evaluate.ts";
export { toQueryValue, valuesEqual, compareOrdered, compareForSort, OPAQUE } from "./values.ts";
export type { QueryValue } from "./values.ts";
