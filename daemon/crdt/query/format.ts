/**
 * Canonical text of a parsed query: `==`/`!=`, upper-case keywords,
 * single-quoted strings, minimal parentheses. Parsing the output gives the
 * same tree (up to columns), which the property tests check.
 */
import type { Expr, Operand, ParsedCondition, ParsedQuery } from "./ast.ts";

export function formatQuery(q: ParsedQuery): string {
  let out = formatExpr(q.where);
  if (q.orderBy.length > 0) {
    out += " ORDER BY " + q.orderBy.map((k) => k.field.name + (k.descending ? " DESC" : "")).join(", ");
  }
  if (q.limit) out += " LIMIT " + (q.limit.kind === "param" ? "?" : String(q.limit.value));
  return out;
}

export function formatCondition(c: ParsedCondition): string {
  return formatExpr(c.where);
}

export function formatExpr(e: Expr): string {
  switch (e.kind) {
    case "compare":
      return `${formatOperand(e.left)} ${e.op} ${formatOperand(e.right)}`;
    case "in":
      return `${formatOperand(e.operand)} IN (${e.items.map(formatOperand).join(", ")})`;
    case "not":
      return `NOT ${e.expr.kind === "and" || e.expr.kind === "or" ? `(${formatExpr(e.expr)})` : formatExpr(e.expr)}`;
    case "and":
      return e.items.map((x) => (x.kind === "or" || x.kind === "and" ? `(${formatExpr(x)})` : formatExpr(x))).join(" AND ");
    case "or":
      return e.items.map((x) => (x.kind === "or" ? `(${formatExpr(x)})` : formatExpr(x))).join(" OR ");
  }
}

export function formatOperand(o: Operand): string {
  switch (o.kind) {
    case "field":
      return o.name;
    case "param":
      return "?";
    case "literal":
      return formatLiteral(o.value);
  }
}

function formatLiteral(v: string | number | boolean | null): string {
  if (v === null) return "nil";
  if (typeof v === "boolean") return String(v);
  if (typeof v === "number") return Object.is(v, -0) ? "-0" : String(v);
  return `'${v.replace(/[\\'\n\r\t\0]/g, (c) => ESCAPED[c])}'`;
}

const ESCAPED: Record<string, string> = { "\\": "\\\\", "'": "\\'", "\n": "\\n", "\r": "\\r", "\t": "\\t", "\0": "\\0" };
