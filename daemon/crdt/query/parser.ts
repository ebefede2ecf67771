/**
 * Recursive-descent parser for queries and trigger conditions.
 *
 *   query     := or [ORDER BY key ("," key)*] [LIMIT (integer | "?")]
 *   or        := and (OR and)*
 *   and       := not (AND not)*
 *   not       := NOT not | "(" or ")" | comparison
 *   comparison:= operand (cmpop operand | (CONTAINS | STARTS WITH) operand | [NOT] IN "(" value ("," value)* ")")
 *   operand   := name | value
 *   value     := string | number | true | false | nil | null | "?"
 *
 * Precedence NOT > AND > OR. A comparison written value-first (`1 < x`) is
 * stored field-first (`x > 1`) so the planner sees one shape.
 */
import type { CompareOp, Expr, LimitOperand, Operand, OrderKey, ParsedCondition, ParsedQuery } from "./ast.ts";
import { tokenize } from "./lexer.ts";
import type { Token } from "./lexer.ts";
import { syntaxError } from "./query-error.ts";
import type { SourceKind } from "./query-error.ts";

const KEYWORDS = new Set(["and", "or", "not", "in", "order", "by", "asc", "desc", "limit", "true", "false", "nil", "null"]);

const OPS: Record<string, CompareOp> = { "==": "==", "=": "==", "~=": "!=", "!=": "!=", "<": "<", "<=": "<=", ">": ">", ">=": ">=" };
const MIRRORED: Record<CompareOp, CompareOp> = { "==": "==", "!=": "!=", "<": ">", "<=": ">=", ">": "<", ">=": "<=", CONTAINS: "CONTAINS", "STARTS WITH": "STARTS WITH" };

/**
 * How deep parentheses and NOTs may nest. The parser, binder, planner and
 * evaluator all recurse over the tree, so a hostile query 100,000 levels deep
 * must be refused here, as a syntax error, before any of them overflows the stack.
 */
export const MAX_NESTING = 100;

/** Parse a query without the cache (see parseQuery in parse-cache.ts). */
export function parseQueryUncached(source: string): ParsedQuery {
  const p = new Parser(source, "query");
  const where = p.parseOr();
  const orderBy = p.parseOrderBy();
  const limit = p.parseLimit();
  p.expectEnd();
  return { source, where, orderBy, limit, paramCount: p.paramCount };
}

/**
 * Parse a trigger condition (`new_value == 'running' and not (old_value == 'running')`).
 * Any dotted name is accepted; it is looked up when the condition is evaluated.
 */
export function parseCondition(source: string): ParsedCondition {
  const p = new Parser(source, "condition");
  const where = p.parseOr();
  p.expectEnd();
  return { source, where };
}

class Parser {
  private readonly tokens: Token[];
  private pos = 0;
  private depth = 0;
  paramCount = 0;

  constructor(
    private readonly source: string,
    private readonly kind: SourceKind,
  ) {
    this.tokens = tokenize(source, kind);
  }

  parseOr(): Expr {
    const items = [this.parseAnd()];
    while (this.keyword("or")) {
      this.pos++;
      items.push(this.parseAnd());
    }
    return combine("or", items);
  }

  private parseAnd(): Expr {
    const items = [this.parseNot()];
    while (this.keyword("and")) {
      this.pos++;
      items.push(this.parseNot());
    }
    return combine("and", items);
  }

  private parseNot(): Expr {
    const t = this.peek();
    if (this.keyword("not")) {
      this.pos++;
      return { kind: "not", expr: this.nested(t, () => this.parseNot()) };
    }
    if (t.type === "(") {
      this.pos++;
      const inner = this.nested(t, () => this.parseOr());
      const close = this.peek();
      if (close.type !== ")") {
        throw this.error(close, `expected ")" to close the "(" at column ${t.column}, found ${describe(close, this.kind)}`);
      }
      this.pos++;
      return inner;
    }
    return this.parseComparison();
  }

  /** One more level of "(" or NOT, opened by `t`; refused past MAX_NESTING. */
  private nested(t: Token, parse: () => Expr): Expr {
    if (this.depth >= MAX_NESTING) {
      throw this.error(t, `nested more than ${MAX_NESTING} levels deep (parentheses and NOT); simplify the ${this.kind}`);
    }
    this.depth++;
    try {
      return parse();
    } finally {
      this.depth--;
    }
  }

  private parseComparison(): Expr {
    const left = this.parseOperand("a field name, a value or \"(\"");
    const t = this.peek();
    let negated = false;
    if (this.keyword("not") && this.keywordAt(this.pos + 1, "in")) {
      negated = true;
      this.pos++;
    }
    if (this.keyword("in")) {
      this.pos++;
      const items = this.parseValueList();
      const e: Expr = { kind: "in", operand: left, items };
      return negated ? { kind: "not", expr: e } : e;
    }
    const text = this.textOperator();
    if (text !== null) {
      const right = this.parseOperand(`a value after ${text}`);
      if (left.kind !== "field") throw this.error(t, `${text} matches a field against a value: write the field first (label ${text} 'x')`);
      return { kind: "compare", op: text, left, right };
    }
    if (t.type !== "op") {
      const after = left.kind === "field" ? `"${left.name}"` : this.tokenText(left.column);
      throw this.error(t, `expected a comparison (==, !=, <, <=, >, >=, CONTAINS, STARTS WITH or IN) after ${after}, found ${describe(t, this.kind)}`);
    }
    this.pos++;
    const op = OPS[t.value as string];
    const right = this.parseOperand(`a field name or a value after "${t.text}"`);
    if (left.kind !== "field" && right.kind === "field") {
      return { kind: "compare", op: MIRRORED[op], left: right, right: left };
    }
    return { kind: "compare", op, left, right };
  }

  /** CONTAINS, or STARTS WITH (two words), consumed; null when neither is next. */
  private textOperator(): "CONTAINS" | "STARTS WITH" | null {
    if (this.keyword("contains")) {
      this.pos++;
      return "CONTAINS";
    }
    if (this.keyword("starts") && this.keywordAt(this.pos + 1, "with")) {
      this.pos += 2;
      return "STARTS WITH";
    }
    return null;
  }

  private parseValueList(): Operand[] {
    const open = this.peek();
    if (open.type !== "(") throw this.error(open, `expected "(" after IN, found ${describe(open, this.kind)}`);
    this.pos++;
    const items: Operand[] = [];
    for (;;) {
      const v = this.parseOperand("a value in the IN list");
      if (v.kind === "field") {
        throw syntaxError(this.kind, this.source, v.column, `IN lists hold values, not field names: "${v.name}" (quote it if it is a string)`);
      }
      items.push(v);
      const t = this.peek();
      if (t.type === ",") {
        this.pos++;
        continue;
      }
      if (t.type === ")") {
        this.pos++;
        return items;
      }
      throw this.error(t, `expected "," or ")" to close the IN list opened at column ${open.column}, found ${describe(t, this.kind)}`);
    }
  }

  private parseOperand(expected: string): Operand {
    const t = this.peek();
    switch (t.type) {
      case "string":
      case "number":
        this.pos++;
        return { kind: "literal", value: t.value, column: t.column };
      case "?":
        return this.parseParam();
      case "ident": {
        const lower = (t.value as string).toLowerCase();
        if (lower === "true" || lower === "false") {
          this.pos++;
          return { kind: "literal", value: lower === "true", column: t.column };
        }
        if (lower === "nil" || lower === "null") {
          this.pos++;
          return { kind: "literal", value: null, column: t.column };
        }
        if (KEYWORDS.has(lower)) break;
        this.pos++;
        return { kind: "field", name: t.value as string, column: t.column };
      }
      default:
        break;
    }
    throw this.error(t, `expected ${expected}, found ${describe(t, this.kind)}`);
  }

  private parseParam(): { kind: "param"; index: number; column: number } {
    const t = this.peek();
    if (this.kind === "condition") {
      throw this.error(t, 'a condition cannot have "?" placeholders; write the value itself');
    }
    this.pos++;
    return { kind: "param", index: this.paramCount++, column: t.column };
  }

  parseOrderBy(): OrderKey[] {
    if (!this.keyword("order")) return [];
    const order = this.peek();
    this.pos++;
    if (!this.keyword("by")) {
      throw this.error(this.peek(), `expected BY after ORDER (column ${order.column}), found ${describe(this.peek(), this.kind)}`);
    }
    this.pos++;
    const keys: OrderKey[] = [];
    for (;;) {
      const t = this.peek();
      const lower = t.type === "ident" ? (t.value as string).toLowerCase() : "";
      if (t.type !== "ident" || KEYWORDS.has(lower)) {
        throw this.error(t, `expected a field name to order by, found ${describe(t, this.kind)}`);
      }
      this.pos++;
      let descending = false;
      if (this.keyword("desc")) {
        descending = true;
        this.pos++;
      } else if (this.keyword("asc")) {
        this.pos++;
      }
      keys.push({ field: { name: t.value as string, column: t.column }, descending });
      if (this.peek().type !== ",") return keys;
      this.pos++;
    }
  }

  parseLimit(): LimitOperand | null {
    if (!this.keyword("limit")) return null;
    this.pos++;
    const t = this.peek();
    if (t.type === "?") return this.parseParam();
    if (t.type === "number" && Number.isSafeInteger(t.value) && (t.value as number) >= 0 && !/[.eE]/.test(t.text)) {
      this.pos++;
      return { kind: "literal", value: t.value as number, column: t.column };
    }
    throw this.error(t, `LIMIT must be a non-negative integer or "?", found ${describe(t, this.kind)}`);
  }

  expectEnd(): void {
    const t = this.peek();
    if (t.type === "end") return;
    if (t.type === ")") throw this.error(t, `unexpected ")" with no matching "("`);
    const what = this.kind === "query" ? "a condition, ORDER BY or LIMIT" : "a condition";
    throw this.error(t, `unexpected ${describe(t, this.kind)} after ${what} (missing AND or OR?)`);
  }

  private peek(): Token {
    return this.tokens[this.pos];
  }

  private keyword(word: string): boolean {
    return this.keywordAt(this.pos, word);
  }

  private keywordAt(pos: number, word: string): boolean {
    const t = this.tokens[pos];
    return t !== undefined && t.type === "ident" && (t.value as string).toLowerCase() === word;
  }

  private tokenText(column: number): string {
    const t = this.tokens.find((x) => x.column === column);
    return t ? JSON.stringify(t.text) : "the value";
  }

  private error(t: Token, problem: string) {
    return syntaxError(this.kind, this.source, t.column, problem);
  }
}

function combine(kind: "and" | "or", items: Expr[]): Expr {
  if (items.length === 1) return items[0];
  const flat: Expr[] = [];
  for (const e of items) {
    if (e.kind === kind) flat.push(...e.items);
    else flat.push(e);
  }
  return { kind, items: flat };
}

function describe(t: Token, kind: SourceKind): string {
  switch (t.type) {
    case "end":
      return `the end of the ${kind}`;
    case "string":
      return `string ${t.text}`;
    case "number":
      return `number ${t.text}`;
    default:
      return `"${t.text}"`;
  }
}
