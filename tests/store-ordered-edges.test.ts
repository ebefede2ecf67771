import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { WorkspaceStore } from "../daemon/crdt/store.ts";
import { USER } from "./helpers/store-fixture.ts";
import { openPair } from "./fixtures/store-pair.ts";
import type { StorePair } from "./fixtures/store-pair.ts";

let pair: StorePair;
let clock = 1_700_000_000_000;
beforeEach(async () => {
  // One wall clock both copies read, moved by the test: which write is "later" is the test's choice.
  pair = await openPair({ now: () => clock });
});
afterEach(async () => {
  await pair.close();
});

async function cue(store: WorkspaceStore, n: number): Promise<string> {
  const r = await store.apply([{ op: "CreateEntity", tables: ["lighting_cues"], fields: { number: n } }], USER);
  return r.results[0]?.id as string;
}

async function append(store: WorkspaceStore, source: string, list: string, where: { after?: string; before?: string } = {}): Promise<string> {
  const r = await store.apply([{ op: "CreateOrderedEdge", type: "in_cue_list", source, target: list, ...where }], USER);
  return r.results[0]?.edgeId as string;
}

function order(store: WorkspaceStore, list: string): string[] {
  return store.orderedEdges(list, "in_cue_list").map((e) => e.id);
}

/** A cue list with three cues on copy a, synced to b. */
async function cueList(): Promise<{ list: string; edges: string[] }> {
  const list = await cue(pair.a, 0);
  const edges: string[] = [];
  for (let i = 1; i <= 3; i++) edges.push(await append(pair.a, await cue(pair.a, i), list));
  await pair.sync();
  return { list, edges };
}

describe("ordered edges inserted or moved on two copies at once converge on one order", () => {
  it("concurrent inserts at the same place both survive, in the same order on both copies", async () => {
    const { list, edges } = await cueList();
    const [e1, e2, e3] = edges;
    const xa = await append(pair.a, await cue(pair.a, 15), list, { after: e1 });
    const xb = await append(pair.b, await cue(pair.b, 16), list, { after: e1 });
    await pair.sync();
    const oa = order(pair.a, list);
    expect(order(pair.b, list)).toEqual(oa);
    expect(oa).toHaveLength(5);
    expect(oa[0]).toBe(e1);
    expect(new Set(oa.slice(1, 3))).toEqual(new Set([xa, xb]));
    expect(oa.slice(3)).toEqual([e2, e3]);
    expect(pair.a.conflicts()).toEqual([]);
  });

  it("many concurrent inserts anywhere still converge", async () => {
    const { list, edges } = await cueList();
    for (let i = 0; i < 10; i++) {
      const s = i % 2 === 0 ? pair.a : pair.b;
      await append(s, await cue(s, 100 + i), list, i % 3 === 0 ? { before: edges[i % 3] } : { after: edges[i % 3] });
    }
    await pair.sync();
    expect(order(pair.a, list)).toHaveLength(13);
    expect(order(pair.b, list)).toEqual(order(pair.a, list));
  });

  it("concurrent moves of one edge: the later move wins on both copies and the other is a conflict", async () => {
    const { list, edges } = await cueList();
    const [e1, e2, e3] = edges;
    clock += 1000;
    await pair.a.apply([{ op: "MoveOrderedEdge", edgeId: e3, before: e1 }], USER);
    clock += 1000;
    const later = await pair.b.apply([{ op: "MoveOrderedEdge", edgeId: e3, after: e1 }], USER);
    await pair.sync();
    expect(order(pair.a, list)).toEqual([e1, e3, e2]);
    expect(order(pair.b, list)).toEqual([e1, e3, e2]);
    const ca = pair.a.conflicts();
    expect(ca).toHaveLength(1);
    expect(ca[0]).toMatchObject({ container: "edge", entity: e3, field: "pos" });
    expect(ca[0].values.map((v) => v.peer).sort()).toEqual(["peer-a", "peer-b"]);
    expect(ca[0].values.find((v) => v.value === ca[0].provisional)?.hlc).toBe(later.hlc);
    expect(pair.b.conflicts()).toEqual(ca);
  });

  it("while a move is in conflict, inserting next to the moved edge goes where every copy shows it", async () => {
    const { list, edges } = await cueList();
    const [e1, e2, e3] = edges;
    clock += 1000;
    // Extra ops first give a's move the higher Automerge op counter: Automerge's internal pick is a's
    // move, while the provisional winner every copy shows is b's later one.
    const q = pair.a.edge(e1)?.source as string;
    await pair.a.apply(
      [
        { op: "SetField", id: q, field: "label", value: "x" },
        { op: "SetField", id: q, field: "status", value: "standby" },
        { op: "MoveOrderedEdge", edgeId: e3, before: e1 },
      ],
      USER,
    );
    clock += 1000;
    await pair.b.apply([{ op: "MoveOrderedEdge", edgeId: e3, after: e1 }], USER);
    await pair.sync();
    expect(pair.a.edge(e3, { heads: pair.a.heads() })?.position).not.toBe(pair.a.edge(e3)?.position);
    expect(order(pair.a, list)).toEqual([e1, e3, e2]);
    const x = await append(pair.a, await cue(pair.a, 9), list, { after: e3 });
    const y = await append(pair.b, await cue(pair.b, 8), list, { before: e3 });
    expect(order(pair.a, list)).toEqual([e1, e3, x, e2]);
    expect(order(pair.b, list)).toEqual([e1, y, e3, e2]);
    await pair.sync();
    expect(order(pair.a, list)).toEqual([e1, y, e3, x, e2]);
    expect(order(pair.b, list)).toEqual(order(pair.a, list));
  });

  it("resolving the move conflict puts the edge where chosen, on both copies", async () => {
    const { list, edges } = await cueList();
    const [e1, e2, e3] = edges;
    clock += 1000;
    await pair.a.apply([{ op: "MoveOrderedEdge", edgeId: e3, before: e1 }], USER);
    clock += 1000;
    await pair.b.apply([{ op: "MoveOrderedEdge", edgeId: e3, after: e1 }], USER);
    await pair.sync();
    const [c] = pair.a.conflicts();
    const first = c.values.find((v) => v.peer === "peer-a");
    await pair.a.resolveConflict(c.id, first?.value ?? null, USER);
    await pair.sync();
    expect(pair.a.conflicts()).toEqual([]);
    expect(pair.b.conflicts()).toEqual([]);
    expect(order(pair.a, list)).toEqual([e3, e1, e2]);
    expect(order(pair.b, list)).toEqual([e3, e1, e2]);
  });
});

describe("two inserts that draw the very same position are ordered by edge id", () => {
  it("both survive and every copy puts them in edge-id order", async () => {
    await pair.close();
    // Same randomness on both copies: the same position key for the same spot.
    pair = await openPair({ now: () => clock, random: () => 0.5 });
    const ids = { list: "L", c1: "C1", x: "CX", y: "CY" };
    await pair.a.apply(
      [
        { op: "CreateEntity", id: ids.list, tables: ["lighting_cues"], fields: { number: 0 } },
        { op: "CreateEntity", id: ids.c1, tables: ["lighting_cues"], fields: { number: 1 } },
        { op: "CreateOrderedEdge", edgeId: "E1", type: "in_cue_list", source: ids.c1, target: ids.list },
      ],
      USER,
    );
    await pair.sync();
    await pair.b.apply([{ op: "CreateEntity", id: ids.y, tables: ["lighting_cues"], fields: { number: 3 } }, { op: "CreateOrderedEdge", edgeId: "E-b", type: "in_cue_list", source: ids.y, target: ids.list, after: "E1" }], USER);
    await pair.a.apply([{ op: "CreateEntity", id: ids.x, tables: ["lighting_cues"], fields: { number: 2 } }, { op: "CreateOrderedEdge", edgeId: "E-a", type: "in_cue_list", source: ids.x, target: ids.list, after: "E1" }], USER);
    await pair.sync();
    expect(pair.a.edge("E-a")?.position).toBe(pair.a.edge("E-b")?.position);
    expect(order(pair.a, ids.list)).toEqual(["E1", "E-a", "E-b"]);
    expect(order(pair.b, ids.list)).toEqual(["E1", "E-a", "E-b"]);
  });
});
