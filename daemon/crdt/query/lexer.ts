/**
 * Turns query text into tokens. Keywords (AND, OR, NOT, IN, ORDER, BY, ASC,
 * DESC, LIMIT, true, false, nil, null) are plain identifiers here; the parser
 * recognises them case-insensitively, so a dotted name is never a keyword.
 */
import { syntaxError } from "./query-error.ts";
import type { SourceKind } from "./query-error.ts";

export type TokenType = "ident" | "string" | "number" | "op" | "(" | ")" | "," | "?" | "end";

export interface Token {
  readonly type: TokenType;
  /** Source text of the token (for messages). */
  readonly text: string;
  /** Decoded string value, or the operator / identifier text. */
  readonly value: string | number;
  readonly column: number;
}

const IDENT_START = /[A-Za-z_]/;
const IDENT_PART = /[A-Za-z0-9_]/;
const NUMBER = /-?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?/y;
const OPERATORS = ["==", "~=", "!=", "<=", ">=", "=", "<", ">"];
const ESCAPES: Record<string, string> = { "\\": "\\", "'": "'", '"': '"', n: "\n", r: "\r", t: "\t", "0": "\0" };

export function tokenize(source: string, kind: SourceKind): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  const n = source.length;
  while (i < n) {
    const c = source[i];
    if (c === " " || c === "\t" || c === "\n" || c === "\r") {
      i++;
      continue;
    }
    const column = i + 1;
    if (c === "(" || c === ")" || c === "," || c === "?") {
      tokens.push({ type: c, text: c, value: c, column });
      i++;
      continue;
    }
    if (c === "'" || c === '"') {
      const [value, end] = readString(source, i, kind);
      tokens.push({ type: "string", text: source.slice(i, end), value, column });
      i = end;
      continue;
    }
    if ((c >= "0" && c <= "9") || ((c === "-" || c === ".") && /[\d.]/.test(source[i + 1] ?? ""))) {
      NUMBER.lastIndex = i;
      const m = NUMBER.exec(source);
      if (!m) throw syntaxError(kind, source, column, `unexpected character ${JSON.stringify(c)}`);
      const value = Number(m[0]);
      if (!Number.isFinite(value)) throw syntaxError(kind, source, column, `number ${m[0]} is out of range`);
      tokens.push({ type: "number", text: m[0], value, column });
      i += m[0].length;
      continue;
    }
    if (IDENT_START.test(c)) {
      let j = i + 1;
      for (;;) {
        while (j < n && IDENT_PART.test(source[j])) j++;
        // Dotted names (`lighting.fixture.channel`): a dot must lead to another part.
        if (source[j] === "." && IDENT_START.test(source[j + 1] ?? "")) j += 1;
        else break;
      }
      const text = source.slice(i, j);
      tokens.push({ type: "ident", text, value: text, column });
      i = j;
      continue;
    }
    const op = OPERATORS.find((o) => source.startsWith(o, i));
    if (op) {
      tokens.push({ type: "op", text: op, value: op, column });
      i += op.length;
      continue;
    }
    const hint = c === "!" ? ' (write "!=" or NOT)' : c === "&" ? " (write AND)" : c === "|" ? " (write OR)" : "";
    throw syntaxError(kind, source, column, `unexpected character ${JSON.stringify(c)}${hint}`);
  }
  tokens.push({ type: "end", text: "", value: "", column: n + 1 });
  return tokens;
}

function readString(source: string, start: number, kind: SourceKind): [string, number] {
  const quote = source[start];
  let out = "";
  let i = start + 1;
  while (i < source.length) {
    const c = source[i];
    if (c === quote) return [out, i + 1];
    if (c === "\\") {
      const e = source[i + 1];
      if (e === undefined) break;
      const decoded = ESCAPES[e];
      if (decoded === undefined) {
        throw syntaxError(kind, source, i + 1, `unknown escape "\\${e}" in string (known: \\\\ \\' \\" \\n \\r \\t \\0)`);
      }
      out += decoded;
      i += 2;
      continue;
    }
    out += c;
    i++;
  }
  throw syntaxError(kind, source, start + 1, `unterminated string: no closing ${quote} before the end`);
}
