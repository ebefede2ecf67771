/**
 * Binds placeholders and resolves names, turning syntax into something the
 * planner and evaluator can run. Every failure here is an InvalidOperation
 * pointing at the column of the offending name, value or placeholder.
 */
import { isOpenprodError } from "../errors.ts";
import type { Expr, Operand, ParsedCondition, ParsedQuery } from "./ast.ts";
import type { BoundExpr, BoundOperand } from "./bound.ts";
import { syntaxError } from "./query-error.ts";
import type { QuerySource } from "./source.ts";
import { describeValue, OPAQUE, toQueryValue } from "./values.ts";
import type { QueryValue } from "./values.ts";

export interface BoundOrderKey {
  readonly operand: BoundOperand;
  readonly descending: boolean;
}

export interface BoundQuery {
  readonly where: BoundExpr;
  readonly orderBy: readonly BoundOrderKey[];
  readonly limit: number | null;
  /** Members of every table the query names, fetched once (also validates the names). */
  readonly tables: ReadonlyMap<string, ReadonlySet<string>>;
}

const TABLE = "table";
const ID = "id";

export function bindQuery(q: ParsedQuery, params: readonly unknown[], src: QuerySource): BoundQuery {
  const fail = (column: number, problem: string, details?: Record<string, unknown>) =>
    syntaxError("query", q.source, column, problem, details);

  if (params.length !== q.paramCount) {
    const column = params.length < q.paramCount ? placeholderColumn(q, params.length) : q.source.length + 1;
    throw fail(
      column,
      `query has ${plural(q.paramCount, '"?" placeholder', '"?" placeholders')} but ${plural(params.length, "parameter was", "parameters were")} given`,
      { expected: q.paramCount, given: params.length },
    );
  }

  const paramValue = (index: number, column: number): QueryValue => {
    const v = toQueryValue(params[index]);
    if (v === OPAQUE) {
      throw fail(column, `parameter ${index + 1} is ${describeValue(params[index])}; a query compares strings, numbers, booleans and nil`, {
        parameter: index + 1,
      });
    }
    return v;
  };
  const constant = (o: Operand): QueryValue => {
    if (o.kind === "literal") return o.value;
    if (o.kind === "param") return paramValue(o.index, o.column);
    throw fail(o.column, `expected a value here, found field "${o.name}"`);
  };

  const tables = new Map<string, ReadonlySet<string>>();
  const tableName = (o: Operand): string => {
    const v = o.kind === "field" ? undefined : constant(o);
    if (typeof v !== "string") {
      const shown = o.kind === "field" ? `field "${o.name}"` : describeValue(v);
      throw fail(o.column, `table must be compared with a table name (a string), got ${shown}`);
    }
    if (!tables.has(v)) {
      try {
        tables.set(v, src.tableMembers(v));
      } catch (e) {
        throw rethrow(e, o.column);
      }
    }
    return v;
  };
  // A refused read stays PermissionDenied: the caller must see why, not a syntax-like error.
  const rethrow = (e: unknown, column: number): unknown =>
    isOpenprodError(e) && e.code !== "PermissionDenied" ? fail(column, e.message, { ...e.details, cause: e.code }) : e;

  // Tables an AND requires (`table == x` / `table IN (...)` among its terms,
  // or around it) narrow the short field names inside it, so
  // `table == 'cues' AND name == ? OR table == 'contacts' AND name == ?` works.
  const narrow = (terms: readonly Expr[], outer: readonly string[]): readonly string[] => {
    const found: string[] = [];
    for (const c of terms) {
      if (c.kind === "compare" && c.op === "==" && isTableField(c.left)) found.push(tableName(c.right));
      if (c.kind === "in" && isTableField(c.operand)) for (const it of c.items) found.push(tableName(it));
    }
    return found.length === 0 ? outer : [...new Set([...outer, ...found])];
  };

  const resolved = new Map<string, string>();
  const resolve = (name: string, column: number, scope: readonly string[]): string => {
    const cacheKey = scope.length === 0 ? name : `${name}\u0000${scope.join("\u0000")}`;
    let key = resolved.get(cacheKey);
    if (key === undefined) {
      try {
        key = src.resolveField(name, scope);
      } catch (e) {
        throw rethrow(e, column);
      }
      resolved.set(cacheKey, key);
    }
    return key;
  };

  const operand = (o: Operand, scope: readonly string[]): BoundOperand => {
    if (o.kind !== "field") return { k: "const", v: constant(o) };
    if (o.name === ID) return { k: "id" };
    if (o.name === TABLE) throw fail(o.column, `"table" can only be used as table == 'name', table != 'name' or table IN (...)`);
    return { k: "field", key: resolve(o.name, o.column, scope) };
  };

  const bind = (e: Expr, scope: readonly string[]): BoundExpr => {
    switch (e.kind) {
      case "compare":
        if (isTableField(e.left)) {
          if (e.op !== "==" && e.op !== "!=") {
            throw fail(e.left.column, `"table" can only be compared with ==, != or IN, not ${e.op}`);
          }
          const t: BoundExpr = { k: "table", tables: [tableName(e.right)] };
          return e.op === "==" ? t : { k: "not", e: t };
        }
        return { k: "cmp", op: e.op, l: operand(e.left, scope), r: operand(e.right, scope) };
      case "in":
        if (isTableField(e.operand)) return { k: "table", tables: e.items.map(tableName) };
        return { k: "in", o: operand(e.operand, scope), vs: e.items.map(constant) };
      case "not":
        return { k: "not", e: bind(e.expr, scope) };
      case "and": {
        const inner = narrow(e.items, scope);
        return { k: "and", es: e.items.map((x) => bind(x, inner)) };
      }
      case "or":
        return { k: "or", es: e.items.map((x) => bind(x, scope)) };
    }
  };

  const topScope = narrow(q.where.kind === "and" ? q.where.items : [q.where], []);
  const where = bind(q.where, topScope);
  const orderBy = q.orderBy.map((key): BoundOrderKey => {
    const { name, column } = key.field;
    if (name === TABLE) throw fail(column, `cannot ORDER BY table; order by a field or id`);
    return { operand: operand({ kind: "field", name, column }, topScope), descending: key.descending };
  });

  let limit: number | null = null;
  if (q.limit) {
    const v = q.limit.kind === "literal" ? q.limit.value : toQueryValue(params[q.limit.index]);
    if (typeof v !== "number" || !Number.isSafeInteger(v) || v < 0) {
      throw fail(q.limit.column, `LIMIT must be a non-negative integer, got ${describeValue(q.limit.kind === "literal" ? q.limit.value : params[q.limit.index])}`);
    }
    limit = v;
  }
  return { where, orderBy, limit, tables };
}

/** A trigger condition: every name is read as written, nothing to resolve. */
export function bindCondition(c: ParsedCondition): BoundExpr {
  const operand = (o: Operand): BoundOperand => {
    if (o.kind === "field") return { k: "field", key: o.name };
    if (o.kind === "literal") return { k: "const", v: o.value };
    throw syntaxError("condition", c.source, o.column, 'a condition cannot have "?" placeholders');
  };
  const constant = (o: Operand): QueryValue => {
    const b = operand(o);
    return b.k === "const" ? b.v : null;
  };
  const bind = (e: Expr): BoundExpr => {
    switch (e.kind) {
      case "compare":
        return { k: "cmp", op: e.op, l: operand(e.left), r: operand(e.right) };
      case "in":
        return { k: "in", o: operand(e.operand), vs: e.items.map(constant) };
      case "not":
        return { k: "not", e: bind(e.expr) };
      case "and":
        return { k: "and", es: e.items.map(bind) };
      case "or":
        return { k: "or", es: e.items.map(bind) };
    }
  };
  return bind(c.where);
}

function isTableField(o: Operand): boolean {
  return o.kind === "field" && o.name === TABLE;
}

function plural(n: number, one: string, many: string): string {
  return `${n} ${n === 1 ? one : many}`;
}

/** Column of the placeholder with this index (0-based), for "missing parameter" errors. */
function placeholderColumn(q: ParsedQuery, index: number): number {
  if (q.limit?.kind === "param" && q.limit.index === index) return q.limit.column;
  let found = q.source.length + 1;
  const visitOperand = (o: Operand) => {
    if (o.kind === "param" && o.index === index) found = o.column;
  };
  const visit = (e: Expr): void => {
    switch (e.kind) {
      case "compare":
        visitOperand(e.left);
        visitOperand(e.right);
        return;
      case "in":
        visitOperand(e.operand);
        e.items.forEach(visitOperand);
        return;
      case "not":
        visit(e.expr);
        return;
      case "and":
      case "or":
        e.items.forEach(visit);
    }
  };
  visit(q.where);
  return found;
}
