import { describe, expect, it } from "vitest";
import { InvalidOperation } from "../daemon/crdt/errors.ts";
import { formatQuery, ParseCache, parseQuery, parseQueryUncached } from "../daemon/crdt/query/index.ts";
import type { Expr } from "../daemon/crdt/query/index.ts";

function failure(fn: () => unknown): InvalidOperation {
  try {
    fn();
  } catch (e) {
    if (e instanceof InvalidOperation) return e;
    throw e;
  }
  throw new Error("expected an InvalidOperation, but nothing was thrown");
}

/** Asserts the parse error's column points at `marker` (its first occurrence after `from`). */
function expectSyntaxError(query: string, marker: string | number, message: RegExp, from = 0): void {
  const e = failure(() => parseQueryUncached(query));
  const column = typeof marker === "number" ? marker : query.indexOf(marker, from) + 1;
  expect(e.message.startsWith(`query ${JSON.stringify(query)} at column ${column}: `)).toBe(true);
  expect(e.message).toMatch(message);
  expect(e.details).toMatchObject({ query, column });
}

const where = (q: string): Expr => parseQueryUncached(q).where;

describe("a syntax error names the problem and the column where it is", () => {
  it("unexpected character", () => {
    expectSyntaxError("channel == 1 # comment", "#", /unexpected character "#"/);
    expectSyntaxError("channel == 1 && name == 'a'", "&", /unexpected character "&" \(write AND\)/);
    expectSyntaxError("!(channel == 1)", "!", /write "!=" or NOT/);
  });

  it("unterminated string points at its opening quote", () => {
    expectSyntaxError("table == 'lighting_fixtures AND channel == 1", "'", /unterminated string: no closing '/);
    expectSyntaxError('name == "abc', '"', /unterminated string: no closing "/);
  });

  it("unknown escape in a string", () => {
    expectSyntaxError("name == 'a\\qb'", "\\", /unknown escape "\\q"/);
  });

  it('missing ")" says which "(" it should close', () => {
    const q = "table == 'cues' AND (number == 1 OR number == 2";
    expectSyntaxError(q, q.length + 1, /expected "\)" to close the "\(" at column 21, found the end of the query/);
  });

  it("an unmatched ) or trailing words", () => {
    expectSyntaxError("channel == 1)", ")", /unexpected "\)" with no matching "\("/);
    expectSyntaxError("channel == 1 name == 2", "name", /unexpected "name" after a condition, ORDER BY or LIMIT \(missing AND or OR\?\)/);
    expectSyntaxError("channel == 1 LIMIT 3 ORDER BY name", "ORDER", /unexpected "ORDER"/);
  });

  it("unexpected token where a value or comparison belongs", () => {
    expectSyntaxError("channel == AND", "AND", /expected a field name or a value after "==", found "AND"/);
    expectSyntaxError("channel 1", "1", /expected a comparison \(==, !=, <, <=, >, >=, CONTAINS, STARTS WITH or IN\) after "channel", found number 1/);
    expectSyntaxError("AND channel == 1", "AND", /expected a field name, a value or "\(" found "AND"|expected a field name, a value or "\(", found "AND"/);
    expectSyntaxError("", 1, /found the end of the query/);
    expectSyntaxError("channel IN 1, 2", "1", /expected "\(" after IN/);
    expectSyntaxError("channel IN (1 2)", "2", /expected "," or "\)" to close the IN list opened at column 12/);
    expectSyntaxError("channel IN (other_field)", "other_field", /IN lists hold values, not field names/);
  });

  it("ORDER BY and LIMIT mistakes", () => {
    expectSyntaxError("channel == 1 ORDER channel", "channel", /expected BY after ORDER/, 5);
    expectSyntaxError("channel == 1 ORDER BY", 22, /expected a field name to order by/);
    expectSyntaxError("channel == 1 LIMIT -1", "-1", /LIMIT must be a non-negative integer or "\?", found number -1/);
    expectSyntaxError("channel == 1 LIMIT 2.5", "2.5", /LIMIT must be a non-negative integer/);
    expectSyntaxError("channel == 1 LIMIT 'ten'", "'ten'", /LIMIT must be a non-negative integer or "\?", found string 'ten'/);
  });

  it("a number too large to represent", () => {
    expectSyntaxError("channel == 1e999", "1e999", /number 1e999 is out of range/);
  });
});

describe("the grammar: operators, literals and precedence", () => {
  it("= is == and ~= is !=", () => {
    expect(where("channel = 1")).toMatchObject({ kind: "compare", op: "==" });
    expect(where("channel ~= 1")).toMatchObject({ kind: "compare", op: "!=" });
    expect(formatQuery(parseQueryUncached("channel ~= 1"))).toBe("channel != 1");
  });

  it("reads every kind of literal", () => {
    const lit = (q: string) => {
      const e = where(`f == ${q}`);
      if (e.kind !== "compare" || e.right.kind !== "literal") throw new Error("not a literal comparison");
      return e.right.value;
    };
    expect(lit("'it\\'s'")).toBe("it's");
    expect(lit('"say \\"hi\\"\\n"')).toBe('say "hi"\n');
    expect(lit("42")).toBe(42);
    expect(lit("-3.5")).toBe(-3.5);
    expect(lit(".5")).toBe(0.5);
    expect(lit("1e3")).toBe(1000);
    expect(lit("true")).toBe(true);
    expect(lit("FALSE")).toBe(false);
    expect(lit("nil")).toBe(null);
    expect(lit("null")).toBe(null);
  });

  it("keywords are case-insensitive and dotted names are fields", () => {
    expect(where("a == 1 and not b == 2 or c in (1)")).toEqual(where("a == 1 AND NOT b == 2 OR c IN (1)"));
    const e = where("lighting.fixture.channel >= 10");
    expect(e).toMatchObject({ kind: "compare", op: ">=", left: { kind: "field", name: "lighting.fixture.channel" } });
  });

  it("NOT binds tighter than AND, which binds tighter than OR", () => {
    expect(formatQuery(parseQueryUncached("a == 1 or b == 2 and not c == 3"))).toBe("a == 1 OR b == 2 AND NOT c == 3");
    const e = where("a == 1 or b == 2 and not c == 3");
    expect(e.kind).toBe("or");
    if (e.kind !== "or") return;
    expect(e.items[1]).toMatchObject({ kind: "and", items: [{ kind: "compare" }, { kind: "not" }] });
  });

  it("parentheses override precedence and are kept only where needed", () => {
    const q = parseQueryUncached("(a == 1 OR b == 2) AND ((c == 3))");
    expect(q.where.kind).toBe("and");
    expect(formatQuery(q)).toBe("(a == 1 OR b == 2) AND c == 3");
    expect(formatQuery(parseQueryUncached("NOT (a == 1 AND b == 2)"))).toBe("NOT (a == 1 AND b == 2)");
  });

  it("a value written first is turned around: 10 < channel is channel > 10", () => {
    expect(where("10 < channel")).toEqual({
      kind: "compare",
      op: ">",
      left: { kind: "field", name: "channel", column: 6 },
      right: { kind: "literal", value: 10, column: 1 },
    });
  });

  it("NOT IN is NOT (... IN ...)", () => {
    expect(formatQuery(parseQueryUncached("status NOT IN ('running', 'paused')"))).toBe("NOT status IN ('running', 'paused')");
  });

  it("placeholders are numbered in reading order, LIMIT's last", () => {
    const q = parseQueryUncached("table == ? AND unit IN (?, 'x', ?) ORDER BY channel DESC, name ASC LIMIT ?");
    expect(q.paramCount).toBe(4);
    expect(q.limit).toEqual({ kind: "param", index: 3, column: 74 });
    expect(q.orderBy.map((k) => [k.field.name, k.descending])).toEqual([
      ["channel", true],
      ["name", false],
    ]);
    expect(formatQuery(q)).toBe("table == ? AND unit IN (?, 'x', ?) ORDER BY channel DESC, name LIMIT ?");
  });
});

describe("parsed queries are cached by their text", () => {
  it("the same text gives the same parsed object", () => {
    const a = parseQuery("table == 'contacts' AND name == ?");
    expect(parseQuery("table == 'contacts' AND name == ?")).toBe(a);
  });

  it("the least recently used entry is dropped when full", () => {
    const cache = new ParseCache(2);
    const a = cache.get("a == 1");
    cache.get("b == 1");
    expect(cache.get("a == 1")).toBe(a); // a is now the most recent
    cache.get("c == 1"); // evicts b
    expect(cache.size).toBe(2);
    expect(cache.get("a == 1")).toBe(a);
    const b2 = cache.get("b == 1");
    expect(b2).not.toBe(undefined);
    expect(cache.size).toBe(2);
  });

  it("a failing parse is not cached and fails again", () => {
    const cache = new ParseCache(4);
    expect(() => cache.get("a ==")).toThrow(InvalidOperation);
    expect(() => cache.get("a ==")).toThrow(InvalidOperation);
    expect(cache.size).toBe(0);
  });
});
