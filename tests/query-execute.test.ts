import { describe, expect, it } from "vitest";
import { InvalidOperation } from "../daemon/crdt/errors.ts";
import { WorkspaceIndexes } from "../daemon/crdt/indexes.ts";
import { executeQuery, parseQuery } from "../daemon/crdt/query/index.ts";
import type { QuerySource, ScalarValue } from "../daemon/crdt/query/index.ts";
import { Schema } from "../daemon/crdt/schema.ts";
import type { FieldType } from "../daemon/crdt/schema.ts";

function facet(module: string, name: string, fields: Record<string, FieldType>) {
  return {
    module,
    name,
    key: `${module}.${name}`,
    fields: Object.entries(fields).map(([f, type]) => ({
      module,
      facet: name,
      name: f,
      type,
      key: `${module}.${name.toLowerCase()}.${f}`,
      facetKey: `${module}.${name}`,
    })),
  };
}

const schema = new Schema({
  facets: [
    facet("lighting", "Fixture", { unit_number: "string", channel: "int", intensity: "float", name: "string", color: "json", active: "bool" }),
    facet("cues", "Cue", { number: "float", name: "string", status: "string", scene: "ref", order_index: "int" }),
    facet("sm", "Contact", { name: "string", phone: "string" }),
  ],
  tables: [
    { module: "lighting", name: "lighting_fixtures", facets: ["lighting.Fixture"] },
    { module: "cues", name: "lighting_cues", facets: ["cues.Cue"] },
    { module: "sm", name: "contacts", facets: ["sm.Contact"] },
  ],
  edgeTypes: [],
});

/**
 * A workspace held in plain maps, answering through the real WorkspaceIndexes
 * and Schema, and counting how much of it each query touches.
 */
class MemoryWorkspace implements QuerySource {
  readonly indexes = new WorkspaceIndexes();
  private readonly values = new Map<string, Map<string, unknown>>();
  readonly calls = { readField: 0, allEntities: 0, lookupEqual: 0, builds: 0 };

  add(id: string, table: string | null, fields: Record<string, unknown> = {}): void {
    this.values.set(id, new Map());
    if (table) this.indexes.addToTable(id, table);
    for (const [name, v] of Object.entries(fields)) this.set(id, name, v, table ? [table] : []);
  }

  set(id: string, name: string, value: unknown, tables: readonly string[] = [...this.indexes.tablesOf(id)]): void {
    const key = this.resolveField(name, tables);
    const fields = this.values.get(id);
    if (!fields) throw new Error(`no entity ${id}`);
    const old = fields.get(key);
    fields.set(key, value);
    this.indexes.fieldChanged(id, key, old, value);
  }

  remove(id: string): void {
    this.values.delete(id);
    this.indexes.removeEntity(id);
  }

  query(q: string, ...params: unknown[]): string[] {
    return executeQuery(parseQuery(q), params, this);
  }

  resetCounts(): void {
    for (const k of Object.keys(this.calls) as (keyof typeof this.calls)[]) this.calls[k] = 0;
  }

  tableMembers(table: string): ReadonlySet<string> {
    schema.table(table);
    return this.indexes.tableMembers(table);
  }
  allEntities(): Iterable<string> {
    this.calls.allEntities++;
    return this.values.keys();
  }
  resolveField(name: string, tables: readonly string[]): string {
    const facets = tables.flatMap((t) => schema.table(t).facets);
    return schema.resolveField(name, tables.length > 0 ? facets : undefined).key;
  }
  lookupEqual(key: string, value: ScalarValue): Iterable<string> {
    this.calls.lookupEqual++;
    return this.indexes.lookupEqual(key, value, () => {
      this.calls.builds++;
      return [...this.values].map(([id, f]): [string, unknown] => [id, f.get(key)]);
    });
  }
  readField(entityId: string, key: string): unknown {
    this.calls.readField++;
    return this.values.get(entityId)?.get(key);
  }
  inTable(entityId: string, table: string): boolean {
    return this.indexes.inTable(entityId, table);
  }
  isLive(entityId: string): boolean {
    return this.values.has(entityId);
  }
}

function failure(fn: () => unknown): InvalidOperation {
  try {
    fn();
  } catch (e) {
    if (e instanceof InvalidOperation) return e;
    throw e;
  }
  throw new Error("expected an InvalidOperation, but nothing was thrown");
}

function rig(): MemoryWorkspace {
  const w = new MemoryWorkspace();
  w.add("f1", "lighting_fixtures", { unit_number: "A1", channel: 1, intensity: 0.5, name: "Key L", active: true });
  w.add("f2", "lighting_fixtures", { unit_number: "A2", channel: 2, intensity: 1.0, name: "Key R", active: false });
  w.add("f3", "lighting_fixtures", { unit_number: "B1", channel: 3, name: "Fill", color: { r: 1 } });
  w.add("f4", "lighting_fixtures", { unit_number: "B2", channel: 10, intensity: 0.25 });
  w.add("f5", "lighting_fixtures", { unit_number: "1", channel: 1.0 });
  w.add("q1", "lighting_cues", { number: 1, name: "House out", status: "standby", order_index: 3 });
  w.add("q2", "lighting_cues", { number: 1.5, name: "Preset", status: "running", order_index: 1 });
  w.add("q3", "lighting_cues", { number: 2, name: "Go", order_index: 2 });
  w.add("c1", "contacts", { name: "Ana", phone: "555" });
  w.add("c2", "contacts", { name: "Ben" });
  return w;
}

describe("core.query finds entities by table and field values", () => {
  it("table membership alone lists a table in id order", () => {
    const w = rig();
    expect(w.query("table == 'contacts'")).toEqual(["c1", "c2"]);
    expect(w.query("table IN ('contacts', 'lighting_cues')")).toEqual(["c1", "c2", "q1", "q2", "q3"]);
    expect(w.query("table != 'lighting_fixtures' AND id != 'c1'")).toEqual(["c2", "q1", "q2", "q3"]);
  });

  it("the spec's fixture lookup by unit number", () => {
    const w = rig();
    expect(w.query("table == 'lighting_fixtures' AND unit_number == ?", "B1")).toEqual(["f3"]);
    expect(w.query("table == 'lighting_fixtures' AND channel == ?", 42)).toEqual([]);
  });

  it("numbers compare by value and never equal strings", () => {
    const w = rig();
    expect(w.query("table == 'lighting_fixtures' AND channel == 1.0")).toEqual(["f1", "f5"]);
    expect(w.query("table == 'lighting_fixtures' AND channel == '1'")).toEqual([]);
    expect(w.query("table == 'lighting_fixtures' AND unit_number == 1")).toEqual([]);
    expect(w.query("table == 'lighting_fixtures' AND unit_number == '1'")).toEqual(["f5"]);
    expect(w.query("table == 'lighting_fixtures' AND intensity == 1")).toEqual(["f2"]);
  });

  it("ordering comparisons on numbers and strings", () => {
    const w = rig();
    expect(w.query("table == 'lighting_fixtures' AND channel >= 2 AND channel < 10")).toEqual(["f2", "f3"]);
    expect(w.query("table == 'lighting_fixtures' AND unit_number > 'A9'")).toEqual(["f3", "f4"]);
    expect(w.query("table == 'lighting_cues' AND 1.5 <= number")).toEqual(["q2", "q3"]);
  });

  it("booleans, IN lists and NOT", () => {
    const w = rig();
    expect(w.query("table == 'lighting_fixtures' AND active == true")).toEqual(["f1"]);
    expect(w.query("table == 'lighting_fixtures' AND active == false")).toEqual(["f2"]);
    expect(w.query("table == 'lighting_fixtures' AND unit_number IN ('A1', ?, 'Z9')", "B2")).toEqual(["f1", "f4"]);
    expect(w.query("table == 'lighting_fixtures' AND NOT unit_number IN ('A1', 'B2')")).toEqual(["f2", "f3", "f5"]);
    expect(w.query("table == 'lighting_fixtures' AND unit_number NOT IN ('A1', 'B2')")).toEqual(["f2", "f3", "f5"]);
  });

  it("each AND branch's table narrows the short names inside it", () => {
    const w = rig();
    expect(w.query("table == 'lighting_cues' AND name == 'Go' OR table == 'contacts' AND (name == 'Ben' OR name == 'Ana')")).toEqual([
      "c1",
      "c2",
      "q3",
    ]);
    expect(failure(() => w.query("name == 'Go'")).message).toMatch(/ambiguous/);
  });

  it("AND binds tighter than OR; parentheses regroup", () => {
    const w = rig();
    expect(w.query("table == 'lighting_cues' AND number == 1 OR table == 'contacts' AND name == 'Ben'")).toEqual(["c2", "q1"]);
    expect(w.query("table == 'lighting_cues' AND (number == 1 OR number == 2)")).toEqual(["q1", "q3"]);
    expect(w.query("table == 'lighting_cues' AND NOT (number == 1 OR number == 2)")).toEqual(["q2"]);
  });

  it("the id pseudo-field", () => {
    const w = rig();
    expect(w.query("id == ?", "q2")).toEqual(["q2"]);
    expect(w.query("id == 'nope'")).toEqual([]);
    expect(w.query("table == 'contacts' AND id != 'c1'")).toEqual(["c2"]);
  });
});

describe("an unset field is nil", () => {
  it("f == nil matches entities without the field, f != value matches them too", () => {
    const w = rig();
    expect(w.query("table == 'lighting_fixtures' AND intensity == nil")).toEqual(["f3", "f5"]);
    expect(w.query("table == 'lighting_fixtures' AND intensity != 0.5")).toEqual(["f2", "f3", "f4", "f5"]);
    expect(w.query("table == 'lighting_fixtures' AND intensity ~= nil")).toEqual(["f1", "f2", "f4"]);
    expect(w.query("table == 'lighting_fixtures' AND intensity IN (nil, 1)")).toEqual(["f2", "f3", "f5"]);
  });

  it("ordering comparisons with nil are false, so NOT of them is true", () => {
    const w = rig();
    expect(w.query("table == 'lighting_fixtures' AND intensity < 100")).toEqual(["f1", "f2", "f4"]);
    expect(w.query("table == 'lighting_fixtures' AND NOT intensity < 100")).toEqual(["f3", "f5"]);
  });

  it("a field set back to nil counts as unset", () => {
    const w = rig();
    w.set("f1", "intensity", null);
    expect(w.query("table == 'lighting_fixtures' AND intensity == nil")).toEqual(["f1", "f3", "f5"]);
    expect(w.query("table == 'lighting_fixtures' AND intensity == 0.5")).toEqual([]);
  });

  it("json values equal nothing", () => {
    const w = rig();
    expect(w.query("table == 'lighting_fixtures' AND color == nil")).toEqual(["f1", "f2", "f4", "f5"]);
    expect(w.query("table == 'lighting_fixtures' AND color != 'x'")).toEqual(["f1", "f2", "f3", "f4", "f5"]);
  });
});

describe("ORDER BY and LIMIT", () => {
  it("orders by one field ascending or descending, nil last both ways", () => {
    const w = rig();
    expect(w.query("table == 'lighting_fixtures' ORDER BY intensity")).toEqual(["f4", "f1", "f2", "f3", "f5"]);
    expect(w.query("table == 'lighting_fixtures' ORDER BY intensity DESC")).toEqual(["f2", "f1", "f4", "f3", "f5"]);
  });

  it("orders by several keys, ties broken by id", () => {
    const w = rig();
    expect(w.query("table == 'lighting_fixtures' ORDER BY channel, unit_number")).toEqual(["f5", "f1", "f2", "f3", "f4"]);
    expect(w.query("table == 'lighting_fixtures' ORDER BY channel, unit_number DESC")).toEqual(["f1", "f5", "f2", "f3", "f4"]);
    expect(w.query("table == 'lighting_fixtures' ORDER BY channel")).toEqual(["f1", "f5", "f2", "f3", "f4"]);
    expect(w.query("table == 'lighting_cues' ORDER BY status DESC, order_index")).toEqual(["q1", "q2", "q3"]);
  });

  it("ORDER BY id, and mixed value types still order deterministically", () => {
    const w = rig();
    expect(w.query("table == 'contacts' ORDER BY id DESC")).toEqual(["c2", "c1"]);
    w.set("q3", "status", 7);
    w.set("q2", "status", true);
    // booleans, then numbers, then strings; nil last
    expect(w.query("table == 'lighting_cues' ORDER BY status")).toEqual(["q2", "q3", "q1"]);
  });

  it("the renumber example: cues of a scene by order_index", () => {
    const w = rig();
    w.set("q1", "scene", "s1");
    w.set("q3", "scene", "s1");
    expect(w.query("table == 'lighting_cues' AND scene == ? ORDER BY order_index", "s1")).toEqual(["q3", "q1"]);
  });

  it("LIMIT n or LIMIT ? keeps the first n", () => {
    const w = rig();
    expect(w.query("table == 'lighting_fixtures' ORDER BY channel DESC LIMIT 2")).toEqual(["f4", "f3"]);
    expect(w.query("table == 'lighting_fixtures' AND channel > ? ORDER BY channel DESC LIMIT ?", 1, 1)).toEqual(["f4"]);
    expect(w.query("table == 'contacts' LIMIT ?", 0)).toEqual([]);
    expect(w.query("table == 'contacts' LIMIT 10")).toEqual(["c1", "c2"]);
  });
});

describe("a query mistake found at run time points at its column", () => {
  it("unknown field, with a suggestion", () => {
    const w = rig();
    const q = "table == 'lighting_cues' AND numbr == ?";
    const e = failure(() => w.query(q, 1));
    expect(e.message).toBe(`query "${q}" at column 30: unknown field "numbr" (did you mean "number"?)`);
    expect(e.details).toMatchObject({ query: q, column: 30, field: "numbr" });
  });

  it("a field that is not on the table, or an ambiguous short name", () => {
    const w = rig();
    expect(failure(() => w.query("table == 'contacts' AND channel == 1")).message).toMatch(
      /at column 25: field "channel" is not on this entity \(it belongs to lighting.Fixture\)/,
    );
    const e = failure(() => w.query("name == 'Ana'"));
    expect(e.message).toMatch(/at column 1: field name "name" is ambiguous/);
  });

  it("an ORDER BY field is resolved too", () => {
    const w = rig();
    expect(failure(() => w.query("table == 'contacts' ORDER BY phne")).message).toMatch(/at column 30: unknown field "phne" \(did you mean "phone"\?\)/);
  });

  it("unknown table", () => {
    const w = rig();
    const e = failure(() => w.query("table == 'lighting_cue' AND number == 1"));
    expect(e.message).toBe(`query "table == 'lighting_cue' AND number == 1" at column 10: unknown table "lighting_cue" (did you mean "lighting_cues"?)`);
    expect(failure(() => w.query("channel == 1 OR table != 'nope'")).message).toMatch(/at column 26: unknown table "nope"/);
  });

  it("wrong number of parameters", () => {
    const w = rig();
    const q = "table == 'lighting_fixtures' AND unit_number == ? AND channel == ?";
    const few = failure(() => w.query(q, "A1"));
    expect(few.message).toBe(`query "${q}" at column ${q.lastIndexOf("?") + 1}: query has 2 "?" placeholders but 1 parameter was given`);
    expect(few.details).toMatchObject({ query: q, expected: 2, given: 1 });
    expect(failure(() => w.query("table == 'contacts'", 1, 2)).message).toMatch(/at column 20: query has 0 "\?" placeholders but 2 parameters were given/);
  });

  it("a parameter that is not a plain value, and a bad LIMIT", () => {
    const w = rig();
    expect(failure(() => w.query("table == 'contacts' AND name == ?", { a: 1 })).message).toMatch(/at column 33: parameter 1 is a table/);
    expect(failure(() => w.query("table == 'contacts' LIMIT ?", -1)).message).toMatch(/at column 27: LIMIT must be a non-negative integer, got -1/);
    expect(failure(() => w.query("table == 'contacts' LIMIT ?", "3")).message).toMatch(/LIMIT must be a non-negative integer, got "3"/);
  });

  it("table used other than as membership", () => {
    const w = rig();
    expect(failure(() => w.query("table < 'b'")).message).toMatch(/at column 1: "table" can only be compared with ==, != or IN, not </);
    expect(failure(() => w.query("table == 3")).message).toMatch(/at column 10: table must be compared with a table name \(a string\), got 3/);
    expect(failure(() => w.query("table == 'contacts' ORDER BY table")).message).toMatch(/at column 30: cannot ORDER BY table/);
  });
});

describe("an equality on an indexed field does not scan the workspace", () => {
  function big(n: number): MemoryWorkspace {
    const w = new MemoryWorkspace();
    for (let i = 0; i < n; i++) {
      w.add(`e${String(i).padStart(6, "0")}`, i % 2 === 0 ? "lighting_fixtures" : "lighting_cues", i % 2 === 0 ? { unit_number: `U${i}`, channel: i % 100 } : { number: i });
    }
    return w;
  }

  it("table == x AND unit_number == ? reads only the matching entity", () => {
    const w = big(4000);
    w.query("table == 'lighting_fixtures' AND unit_number == ?", "U0"); // first lookup builds the index
    expect(w.calls.builds).toBe(1);
    w.resetCounts();
    expect(w.query("table == 'lighting_fixtures' AND unit_number == ?", "U1234")).toEqual(["e001234"]);
    expect(w.calls).toEqual({ readField: 1, allEntities: 0, lookupEqual: 1, builds: 0 });
  });

  it("the index follows later changes", () => {
    const w = big(200);
    expect(w.query("table == 'lighting_fixtures' AND unit_number == ?", "U10")).toEqual(["e000010"]);
    w.set("e000010", "unit_number", "X");
    w.add("n1", "lighting_fixtures", { unit_number: "U10" });
    w.remove("e000012");
    w.resetCounts();
    expect(w.query("table == 'lighting_fixtures' AND unit_number == ?", "U10")).toEqual(["n1"]);
    expect(w.query("table == 'lighting_fixtures' AND unit_number IN ('X', 'U12')")).toEqual(["e000010"]);
    expect(w.calls.builds).toBe(0);
    expect(w.calls.allEntities).toBe(0);
  });

  it("an OR of indexable branches is a union, still without a scan", () => {
    const w = big(1000);
    w.resetCounts();
    expect(w.query("unit_number == 'U2' OR number == 3 OR id == 'e000004'")).toEqual(["e000002", "e000003", "e000004"]);
    expect(w.calls.allEntities).toBe(0);
    expect(w.calls.readField).toBeLessThanOrEqual(3 * 3);
  });

  it("the smallest candidate set drives the work", () => {
    const w = big(2000);
    w.query("channel == 0");
    w.resetCounts();
    // channel == 7 matches nothing (an empty set ends the plan); channel == 8 matches
    // 20 entities and unit_number == 'U8' one: only that one is read.
    expect(w.query("table == 'lighting_fixtures' AND channel == 7 AND unit_number == 'U7'")).toEqual([]);
    expect(w.query("table == 'lighting_fixtures' AND channel == 8 AND unit_number == 'U8'")).toEqual(["e000008"]);
    expect(w.calls.readField).toBeLessThanOrEqual(2);
  });

  it("with nothing indexable (NOT, <, nil) it scans, and is still right", () => {
    const w = big(300);
    w.resetCounts();
    expect(w.query("NOT channel != 6")).toEqual(["e000006", "e000106", "e000206"]);
    expect(w.calls.allEntities).toBe(1);
    expect(w.query("lighting.fixture.channel == nil AND number < 4")).toEqual(["e000001", "e000003"]);
  });
});
