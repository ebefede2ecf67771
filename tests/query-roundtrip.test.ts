import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { WorkspaceIndexes } from "../daemon/crdt/indexes.ts";
import { executeQuery, formatQuery, parseQueryUncached } from "../daemon/crdt/query/index.ts";
import type { QuerySource, ScalarValue } from "../daemon/crdt/query/index.ts";

/** The parse tree without source positions, which formatting legitimately moves. */
function shape(q: unknown): unknown {
  return JSON.parse(JSON.stringify(q, (k, v: unknown) => (k === "column" || k === "source" ? undefined : Object.is(v, -0) ? "-0" : v)));
}

const ws = fc.constantFrom(" ", "  ", "\t", "\n");
const keyword = (w: string) => fc.constantFrom(w.toUpperCase(), w.toLowerCase(), w[0].toUpperCase() + w.slice(1));
const field = fc.constantFrom("channel", "unit_number", "lighting.channel", "lighting.fixture.channel", "table", "id", "_x1");
const stringLiteral = fc
  .tuple(fc.string({ unit: fc.constantFrom("a", "Z", " ", "'", '"', "\\", "\n", "\t", "é", "😀", "?", ")"), maxLength: 8 }), fc.boolean())
  .map(([s, single]) => {
    const q = single ? "'" : '"';
    const body = s.replace(/\\/g, "\\\\").replace(single ? /'/g : /"/g, `\\${q}`).replace(/\n/g, "\\n");
    return `${q}${body}${q}`;
  });
const numberLiteral = fc.oneof(
  fc.integer({ min: -1_000_000, max: 1_000_000 }).map(String),
  fc.double({ noNaN: true, noDefaultInfinity: true }).map((n) => (Object.is(n, -0) ? "-0" : String(n))),
);
const value = fc.oneof(stringLiteral, numberLiteral, keyword("true"), keyword("false"), keyword("nil"), keyword("null"), fc.constant("?"));
const operand = fc.oneof({ weight: 2, arbitrary: field }, { weight: 3, arbitrary: value });
const op = fc.constantFrom("==", "=", "!=", "~=", "<", "<=", ">", ">=");

const { expr } = fc.letrec<{ expr: string; atom: string }>((tie) => ({
  atom: fc.oneof(
    fc.tuple(operand, ws, op, ws, operand).map((p) => p.join("")),
    fc
      .tuple(field, keyword("not"), keyword("in"), fc.array(value, { minLength: 1, maxLength: 4 }), fc.boolean())
      .map(([f, not, inKw, vs, negated]) => `${f} ${negated ? `${not} ` : ""}${inKw} (${vs.join(", ")})`),
  ),
  expr: fc.oneof(
    { depthSize: "small", withCrossShrink: true },
    tie("atom"),
    fc.tuple(keyword("not"), tie("expr")).map(([n, e]) => `${n} ${e}`),
    fc.tuple(tie("expr"), keyword("and"), tie("expr")).map(([a, k, b]) => `${a} ${k} ${b}`),
    fc.tuple(tie("expr"), keyword("or"), tie("expr")).map(([a, k, b]) => `${a} ${k} ${b}`),
    tie("expr").map((e) => `(${e})`),
  ),
}));

const query = fc
  .tuple(
    expr,
    fc.option(fc.array(fc.tuple(field.filter((f) => f !== "table"), fc.constantFrom("", " ASC", " desc")), { minLength: 1, maxLength: 3 })),
    fc.option(fc.oneof(fc.nat(1000).map(String), fc.constant("?"))),
  )
  .map(([where, order, limit]) => {
    let q = where;
    if (order) q += ` ORDER BY ${order.map(([f, d]) => f + d).join(", ")}`;
    if (limit !== null) q += ` limit ${limit}`;
    return q;
  });

describe("a query printed in canonical form reads back the same", () => {
  it("parse(format(parse(x))) equals parse(x)", () => {
    fc.assert(
      fc.property(query, (text) => {
        const parsed = parseQueryUncached(text);
        const printed = formatQuery(parsed);
        const reparsed = parseQueryUncached(printed);
        expect(shape(reparsed)).toEqual(shape(parsed));
        expect(formatQuery(reparsed)).toBe(printed);
      }),
      { numRuns: 400 },
    );
  });
});

/**
 * A tiny workspace whose field names are their own keys, answering equality
 * through the real WorkspaceIndexes.
 */
class TinyWorkspace implements QuerySource {
  readonly indexes = new WorkspaceIndexes();
  readonly values = new Map<string, Map<string, unknown>>();

  tableMembers(table: string): ReadonlySet<string> {
    return this.indexes.tableMembers(table);
  }
  allEntities(): Iterable<string> {
    return this.values.keys();
  }
  resolveField(name: string): string {
    return name;
  }
  lookupEqual(key: string, value: ScalarValue): Iterable<string> {
    return this.indexes.lookupEqual(key, value, () => [...this.values].map(([id, f]): [string, unknown] => [id, f.get(key)]));
  }
  readField(entityId: string, key: string): unknown {
    return this.values.get(entityId)?.get(key);
  }
  inTable(entityId: string, table: string): boolean {
    return this.indexes.inTable(entityId, table);
  }
  isLive(entityId: string): boolean {
    return this.values.has(entityId);
  }
  set(id: string, key: string, v: unknown): void {
    const f = this.values.get(id);
    if (!f) return;
    const old = f.get(key);
    f.set(key, v);
    this.indexes.fieldChanged(id, key, old, v);
  }
}

const IDS = Array.from({ length: 12 }, (_, i) => `e${i}`);
const fieldValue = fc.constantFrom<unknown>(0, 1, 1.0, 2, "1", "x", true, false, null, undefined, { j: 1 });
const litText = fc.constantFrom("0", "1", "1.0", "2", "'1'", "'x'", "true", "false", "nil");
const pfield = fc.constantFrom("a", "b", "id");
const ptable = fc.constantFrom("'t1'", "'t2'");
const { pexpr } = fc.letrec<{ pexpr: string }>((tie) => ({
  pexpr: fc.oneof(
    { depthSize: "small", withCrossShrink: true },
    fc.tuple(pfield, fc.constantFrom("==", "!=", "<", ">="), litText).map(([f, o, v]) => `${f} ${o} ${v}`),
    fc.constantFrom(...IDS).map((id) => `id == '${id}'`),
    fc.tuple(fc.constantFrom("==", "!="), ptable).map(([o, t]) => `table ${o} ${t}`),
    fc.array(litText, { minLength: 1, maxLength: 3 }).map((vs) => `a IN (${vs.join(", ")})`),
    tie("pexpr").map((e) => `NOT (${e})`),
    fc.tuple(tie("pexpr"), tie("pexpr")).map(([x, y]) => `(${x}) AND (${y})`),
    fc.tuple(tie("pexpr"), tie("pexpr")).map(([x, y]) => `(${x}) OR (${y})`),
  ),
}));
const entity = fc.record({ tables: fc.subarray(["t1", "t2"]), a: fieldValue, b: fieldValue });
const change = fc.tuple(fc.constantFrom(...IDS), fc.constantFrom("a", "b", "remove", "t1", "t2"), fieldValue);

describe("the index plan never changes what a query matches", () => {
  it("indexed answers equal a full scan, before and after changes", () => {
    fc.assert(
      fc.property(fc.array(entity, { minLength: IDS.length, maxLength: IDS.length }), pexpr, fc.array(change, { maxLength: 10 }), (ents, where, changes) => {
        const w = new TinyWorkspace();
        ents.forEach((e, i) => {
          w.values.set(IDS[i], new Map([["a", e.a], ["b", e.b]]));
          for (const t of e.tables) w.indexes.addToTable(IDS[i], t);
        });
        const planned = parseQueryUncached(where);
        // NOT NOT hides every constraint from the planner, forcing a filtered scan.
        const scanned = parseQueryUncached(`NOT NOT (${where})`);
        expect(executeQuery(planned, [], w)).toEqual(executeQuery(scanned, [], w));
        for (const [id, what, v] of changes) {
          if (what === "remove") {
            w.values.delete(id);
            w.indexes.removeEntity(id);
          } else if (what === "t1" || what === "t2") {
            if (!w.values.has(id)) continue;
            if (w.indexes.tablesOf(id).has(what)) w.indexes.removeFromTable(id, what);
            else w.indexes.addToTable(id, what);
          } else w.set(id, what, v);
        }
        expect(executeQuery(planned, [], w)).toEqual(executeQuery(scanned, [], w));
      }),
      { numRuns: 300 },
    );
  });
});
