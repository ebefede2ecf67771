import { describe, expect, it } from "vitest";
import { WorkspaceIndexes } from "../daemon/crdt/indexes.ts";

function rows(values: Record<string, unknown>): () => [string, unknown][] {
  return () => Object.entries(values);
}

describe("table membership is tracked both ways", () => {
  it("members of a table and tables of an entity", () => {
    const ix = new WorkspaceIndexes();
    ix.addToTable("e1", "cues");
    ix.addToTable("e1", "favourites");
    ix.addToTable("e2", "cues");
    expect([...ix.tableMembers("cues")]).toEqual(["e1", "e2"]);
    expect([...ix.tablesOf("e1")].sort()).toEqual(["cues", "favourites"]);
    ix.removeFromTable("e1", "cues");
    expect([...ix.tableMembers("cues")]).toEqual(["e2"]);
    expect([...ix.tablesOf("e1")]).toEqual(["favourites"]);
    expect(ix.tableMembers("nobody").size).toBe(0);
    expect(ix.tablesOf("nobody").size).toBe(0);
  });

  it("adding twice is harmless", () => {
    const ix = new WorkspaceIndexes();
    ix.addToTable("e1", "cues");
    ix.addToTable("e1", "cues");
    ix.removeFromTable("e1", "cues");
    expect(ix.tableMembers("cues").size).toBe(0);
    expect(ix.tablesOf("e1").size).toBe(0);
  });
});

describe("the equality index is built on first use and kept current", () => {
  it("builds once, lazily; changes before that cost nothing", () => {
    const ix = new WorkspaceIndexes();
    let builds = 0;
    const data: Record<string, unknown> = { e1: "A1", e2: "A2", e3: "A1" };
    const build = () => {
      builds++;
      return Object.entries(data);
    };
    ix.fieldChanged("e1", "unit", undefined, "A1"); // no index yet: ignored
    expect(ix.hasFieldIndex("unit")).toBe(false);
    expect([...ix.lookupEqual("unit", "A1", build)].sort()).toEqual(["e1", "e3"]);
    expect(ix.hasFieldIndex("unit")).toBe(true);
    expect([...ix.lookupEqual("unit", "A2", build)]).toEqual(["e2"]);
    expect(ix.lookupEqual("unit", "Z", build).size).toBe(0);
    expect(builds).toBe(1);
  });

  it("follows sets, changes, unsets and deletions", () => {
    const ix = new WorkspaceIndexes();
    const build = rows({ e1: "A1", e2: "A2" });
    ix.lookupEqual("unit", "A1", build);
    ix.fieldChanged("e2", "unit", "A2", "A1");
    ix.fieldChanged("e3", "unit", undefined, "A1");
    expect([...ix.lookupEqual("unit", "A1", build)].sort()).toEqual(["e1", "e2", "e3"]);
    expect(ix.lookupEqual("unit", "A2", build).size).toBe(0);
    ix.fieldChanged("e1", "unit", "A1", null);
    ix.removeEntity("e3");
    expect([...ix.lookupEqual("unit", "A1", build)]).toEqual(["e2"]);
    // A wrong oldValue from the caller cannot leave a stale entry behind.
    ix.fieldChanged("e2", "unit", "bogus", "B");
    expect(ix.lookupEqual("unit", "A1", build).size).toBe(0);
    expect([...ix.lookupEqual("unit", "B", build)]).toEqual(["e2"]);
  });

  it("numbers by value, strings and booleans apart", () => {
    const ix = new WorkspaceIndexes();
    const build = rows({ a: 1, b: 1.0, c: "1", d: true, e: 2n, f: -0, g: 0 });
    expect([...ix.lookupEqual("k", 1, build)].sort()).toEqual(["a", "b"]);
    expect([...ix.lookupEqual("k", "1", build)]).toEqual(["c"]);
    expect([...ix.lookupEqual("k", true, build)]).toEqual(["d"]);
    expect([...ix.lookupEqual("k", 2, build)]).toEqual(["e"]);
    expect([...ix.lookupEqual("k", 0, build)].sort()).toEqual(["f", "g"]);
    expect(ix.lookupEqual("k", Number.NaN, rows({ n: Number.NaN })).size).toBe(0);
  });

  it("nil lookups and json values are answered correctly without being indexed", () => {
    const ix = new WorkspaceIndexes();
    const data = { a: "x", b: null, c: undefined, d: { r: 1 }, e: ["x"] };
    expect([...ix.lookupEqual("k", "x", rows(data))]).toEqual(["a"]);
    expect([...ix.lookupEqual("k", null, rows(data))].sort()).toEqual(["b", "c"]);
    ix.fieldChanged("d", "k", { r: 1 }, "x");
    ix.fieldChanged("a", "k", "x", { r: 2 });
    expect([...ix.lookupEqual("k", "x", rows(data))]).toEqual(["d"]);
  });

  it("a value shared by many entities and then by one again", () => {
    const ix = new WorkspaceIndexes();
    const build = rows({});
    ix.lookupEqual("status", "go", build);
    for (let i = 0; i < 50; i++) ix.fieldChanged(`e${i}`, "status", undefined, "go");
    expect(ix.lookupEqual("status", "go", build).size).toBe(50);
    for (let i = 1; i < 50; i++) ix.fieldChanged(`e${i}`, "status", "go", "stop");
    expect([...ix.lookupEqual("status", "go", build)]).toEqual(["e0"]);
    expect(ix.lookupEqual("status", "stop", build).size).toBe(49);
  });
});

describe("edges are found from either end", () => {
  it("by endpoint and type, in id order", () => {
    const ix = new WorkspaceIndexes();
    ix.addEdge({ id: "x2", type: "in_cue_list", source: "q1", target: "list" });
    ix.addEdge({ id: "x1", type: "in_cue_list", source: "q2", target: "list" });
    ix.addEdge({ id: "x3", type: "follows", source: "q2", target: "q1" });
    expect(ix.edgesTo("list")).toEqual(["x1", "x2"]);
    expect(ix.edgesFrom("q2")).toEqual(["x1", "x3"]);
    expect(ix.edgesFrom("q2", "follows")).toEqual(["x3"]);
    expect(ix.edgesTo("q1", "in_cue_list")).toEqual([]);
    expect(ix.edge("x3")).toEqual({ id: "x3", type: "follows", source: "q2", target: "q1" });
  });

  it("re-adding an edge moves it; removing forgets it", () => {
    const ix = new WorkspaceIndexes();
    ix.addEdge({ id: "x1", type: "t", source: "a", target: "b" });
    ix.addEdge({ id: "x1", type: "t", source: "c", target: "b" });
    expect(ix.edgesFrom("a")).toEqual([]);
    expect(ix.edgesFrom("c")).toEqual(["x1"]);
    ix.removeEdge("x1");
    ix.removeEdge("x1");
    expect(ix.edgesTo("b")).toEqual([]);
    expect(ix.edge("x1")).toBeUndefined();
  });
});

describe("a deleted or merged-away entity leaves every index", () => {
  it("tables, field values and the edges that touch it", () => {
    const ix = new WorkspaceIndexes();
    const build = rows({ e1: "A1", e2: "A1" });
    ix.addToTable("e1", "fixtures");
    ix.addToTable("e2", "fixtures");
    ix.lookupEqual("unit", "A1", build);
    ix.addEdge({ id: "x1", type: "t", source: "e1", target: "e2" });
    ix.addEdge({ id: "x2", type: "t", source: "e2", target: "e1" });
    ix.addEdge({ id: "x3", type: "t", source: "e2", target: "e3" });
    ix.removeEntity("e1");
    expect([...ix.tableMembers("fixtures")]).toEqual(["e2"]);
    expect(ix.tablesOf("e1").size).toBe(0);
    expect([...ix.lookupEqual("unit", "A1", build)]).toEqual(["e2"]);
    expect(ix.edgesFrom("e2")).toEqual(["x3"]);
    expect(ix.edgesTo("e2")).toEqual([]);
    expect(ix.edge("x1")).toBeUndefined();
  });
});
