import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { EntityNotFound, FieldNotFound, InvalidOperation } from "../daemon/crdt/errors.ts";
import type { WorkspaceStore } from "../daemon/crdt/store.ts";
import { USER, openTestStore, tempDir } from "./helpers/store-fixture.ts";

let tmp: { dir: string; cleanup: () => void };
let store: WorkspaceStore;

beforeEach(async () => {
  tmp = tempDir();
  store = await openTestStore(tmp.dir);
});
afterEach(async () => {
  await store.close();
  tmp.cleanup();
});

async function fixture(fields: Record<string, unknown>): Promise<string> {
  const r = await store.apply([{ op: "CreateEntity", tables: ["lighting_fixtures"], fields: fields as never }], USER);
  return r.results[0]?.id as string;
}

describe("entities, facets and typed fields", () => {
  it("creates an entity in a table and reads its fields by any addressing form", async () => {
    const id = await fixture({ unit_number: "A1", channel: 1, position: "FOH", intensity: 0.5 });
    expect(store.getField(id, "channel")).toBe(1);
    expect(store.getField(id, "lighting.channel")).toBe(1);
    expect(store.getField(id, "lighting.fixture.channel")).toBe(1);
    const e = store.getEntity(id);
    expect(e.facets).toEqual(["lighting.Fixture"]);
    expect(Object.keys(e.tables)).toEqual(["lighting_fixtures"]);
    expect(e.fields["lighting.fixture.unit_number"]).toBe("A1");
  });

  it("a write of the wrong type is InvalidOperation naming entity, field and value", async () => {
    const id = await fixture({ unit_number: "A1" });
    const err = await store.apply([{ op: "SetField", id, field: "channel", value: "twelve" }], USER).catch((e) => e);
    expect(err).toBeInstanceOf(InvalidOperation);
    expect(err.message).toContain("lighting.fixture.channel");
    expect(err.message).toContain(id);
    expect(err.message).toContain('"twelve"');
    expect(err.code).toBe("InvalidOperation");
  });

  it("an unknown field is FieldNotFound, a missing entity EntityNotFound", async () => {
    const id = await fixture({ unit_number: "A1" });
    await expect(store.apply([{ op: "SetField", id, field: "chanel", value: 1 }], USER)).rejects.toBeInstanceOf(FieldNotFound);
    await expect(store.apply([{ op: "SetField", id: "nope", field: "channel", value: 1 }], USER)).rejects.toBeInstanceOf(EntityNotFound);
    expect(() => store.getField(id, "email")).toThrow(FieldNotFound);
  });

  it("a bundle that fails half-way leaves no trace", async () => {
    const id = await fixture({ unit_number: "A1", channel: 1 });
    const heads = store.heads();
    await expect(
      store.apply(
        [
          { op: "SetField", id, field: "channel", value: 2 },
          { op: "CreateEntity", tables: ["lighting_fixtures"], fields: { unit_number: "B1" } },
          { op: "SetField", id, field: "channel", value: "bad" },
        ],
        USER,
      ),
    ).rejects.toBeInstanceOf(InvalidOperation);
    expect(store.heads()).toEqual(heads);
    expect(store.getField(id, "channel")).toBe(1);
    expect(store.queryIds("table == 'lighting_fixtures'")).toEqual([id]);
  });

  it("nil clears a field; integers stay integers and floats floats", async () => {
    const id = await fixture({ unit_number: "A1", channel: 7, intensity: 1 });
    expect(store.getField(id, "intensity")).toBe(1);
    await store.apply([{ op: "SetField", id, field: "channel", value: null }], USER);
    expect(store.getField(id, "channel")).toBeNull();
    await expect(store.apply([{ op: "SetField", id, field: "channel", value: 1.5 }], USER)).rejects.toThrow(/integer/);
  });

  it("text and list fields are CRDTs edited in place", async () => {
    const id = await fixture({ unit_number: "A1", notes: "hello world", tags: ["a", "b"] });
    await store.apply([{ op: "ApplyCRDT", id, field: "notes", edit: { kind: "text.insert", index: 0, text: "Intro: " } }], USER);
    await store.apply([{ op: "ApplyCRDT", id, field: "notes", edit: { kind: "text.replace", start: 7, end: 12, text: "HELLO" } }], USER);
    expect(store.getField(id, "notes")).toBe("Intro: HELLO world");
    await store.apply([{ op: "ApplyCRDT", id, field: "tags", edit: { kind: "list.append", value: "c" } }], USER);
    await store.apply([{ op: "ApplyCRDT", id, field: "tags", edit: { kind: "list.insert", index: 1, value: "x" } }], USER);
    await store.apply([{ op: "ApplyCRDT", id, field: "tags", edit: { kind: "list.remove", value: "a" } }], USER);
    await store.apply([{ op: "ApplyCRDT", id, field: "tags", edit: { kind: "list.remove_at", index: 0 } }], USER);
    expect(store.getField(id, "tags")).toEqual(["b", "c"]);
    await expect(
      store.apply([{ op: "ApplyCRDT", id, field: "tags", edit: { kind: "list.remove_at", index: 5 } }], USER),
    ).rejects.toThrow(/out of range/);
  });

  it("a deleted entity is a tombstone: reads and writes fail with EntityNotFound, history keeps it", async () => {
    const id = await fixture({ unit_number: "A1" });
    await store.apply([{ op: "DeleteEntity", id }], USER);
    expect(() => store.getEntity(id)).toThrow(EntityNotFound);
    await expect(store.apply([{ op: "SetField", id, field: "channel", value: 1 }], USER)).rejects.toBeInstanceOf(EntityNotFound);
    expect(store.queryIds("table == 'lighting_fixtures'")).toEqual([]);
    const hist = await store.history({ entity: id });
    expect(hist.length).toBe(2);
  });

  it("tables: add_to_table attaches the table's facets; membership carries fields", async () => {
    const id = await fixture({ unit_number: "A1" });
    await store.apply([{ op: "AddToTable", id, table: "sm_fixtures", membership: { department: "lighting" } }], USER);
    expect(store.getEntity(id).tables.sm_fixtures).toEqual({ department: "lighting" });
    expect(store.queryIds("table == 'sm_fixtures'")).toEqual([id]);
    await store.apply([{ op: "RemoveFromTable", id, table: "sm_fixtures" }], USER);
    expect(store.queryIds("table == 'sm_fixtures'")).toEqual([]);
  });

  it("attach/detach facet, with preserve keeping values for re-attach", async () => {
    const r = await store.apply([{ op: "CreateEntity", fields: {}, facets: [] }], USER);
    const id = r.results[0]?.id as string;
    await store.apply([{ op: "AttachFacet", id, facet: "sm.Contact", fields: { name: "Jane", email: "j@x" } }], USER);
    expect(store.getField(id, "name")).toBe("Jane");
    await store.apply([{ op: "DetachFacet", id, facet: "sm.Contact", preserve: true }], USER);
    expect(() => store.getField(id, "name")).toThrow(FieldNotFound);
    await store.apply([{ op: "AttachFacet", id, facet: "sm.Contact" }], USER);
    expect(store.getField(id, "name")).toBe("Jane");
    await store.apply([{ op: "DetachFacet", id, facet: "sm.Contact" }], USER);
    await store.apply([{ op: "AttachFacet", id, facet: "sm.Contact" }], USER);
    expect(store.getField(id, "name")).toBeNull();
  });
});

describe("edges and ordered edges", () => {
  it("creates and deletes edges with properties, found by endpoint", async () => {
    const a = await fixture({ unit_number: "A1" });
    const b = await fixture({ unit_number: "B1" });
    const r = await store.apply([{ op: "CreateEdge", type: "mounted_at", source: a, target: b, properties: { unit_number: "A1" } }], USER);
    const edgeId = r.results[0]?.edgeId as string;
    expect(store.edgesOf(a).map((e) => e.id)).toEqual([edgeId]);
    expect(store.edge(edgeId)?.properties).toEqual({ unit_number: "A1" });
    await store.apply([{ op: "DeleteEdge", edgeId }], USER);
    expect(store.edgesOf(a)).toEqual([]);
    await expect(store.apply([{ op: "CreateEdge", type: "nope", source: a, target: b }], USER)).rejects.toThrow(/unknown edge type/);
  });

  it("ordered edges insert at end, after and before, and move", async () => {
    const list = await fixture({ unit_number: "LIST" });
    const cues: string[] = [];
    for (let i = 0; i < 3; i++) cues.push(await fixture({ unit_number: `C${i}` }));
    const add = async (src: string, where: { after?: string; before?: string } = {}): Promise<string> =>
      (await store.apply([{ op: "CreateOrderedEdge", type: "in_cue_list", source: src, target: list, ...where }], USER)).results[0]
        ?.edgeId as string;
    const e0 = await add(cues[0]);
    const e2 = await add(cues[2]);
    const e1 = await add(cues[1], { after: e0 });
    const order = (): string[] => store.orderedEdges(list, "in_cue_list").map((e) => e.source);
    expect(order()).toEqual([cues[0], cues[1], cues[2]]);
    await store.apply([{ op: "MoveOrderedEdge", edgeId: e2, before: e0 }], USER);
    expect(order()).toEqual([cues[2], cues[0], cues[1]]);
    await store.apply([{ op: "MoveOrderedEdge", edgeId: e2, after: e1 }], USER);
    expect(order()).toEqual([cues[0], cues[1], cues[2]]);
  });
});

describe("identity operations", () => {
  it("merge folds B into A, B redirects to A, clashes become conflicts unless resolved", async () => {
    const a = await fixture({ unit_number: "A1", channel: 1 });
    const b = await fixture({ unit_number: "A1", channel: 2, dimmer: "D5" });
    await store.apply([{ op: "MergeEntities", into: a, from: b }], USER);
    expect(store.getField(a, "dimmer")).toBe("D5");
    expect(store.getEntity(b).id).toBe(a);
    const conflicts = store.conflicts();
    expect(conflicts).toHaveLength(1);
    expect(conflicts[0].field).toBe("lighting.fixture.channel");
    await store.resolveConflict(conflicts[0].id, 2, USER);
    expect(store.conflicts()).toHaveLength(0);
    expect(store.getField(a, "channel")).toBe(2);
  });

  it("split distributes facets to new entities and edges follow their facet", async () => {
    const r = await store.apply(
      [{ op: "CreateEntity", tables: ["lighting_fixtures", "contacts"], fields: { unit_number: "X", name: "Jo" } }],
      USER,
    );
    const src = r.results[0]?.id as string;
    const pos = await fixture({ unit_number: "POS" });
    await store.apply([{ op: "CreateEdge", type: "mounted_at", source: src, target: pos }], USER);
    const s = await store.apply([{ op: "SplitEntity", source: src, distribution: { "$new1": ["sm.Contact"] } }], USER);
    const newId = s.results[0]?.ids?.[0] as string;
    expect(store.getField(newId, "name")).toBe("Jo");
    expect(store.facetsOf(src)).toEqual(["lighting.Fixture"]);
    expect(store.queryIds("table == 'contacts'")).toEqual([newId]);
    expect(store.edgesOf(src).length).toBe(1);
  });
});

describe("durability and history", () => {
  it("every acknowledged bundle is there after reopening", async () => {
    const id = await fixture({ unit_number: "A1", channel: 1 });
    for (let i = 2; i <= 20; i++) await store.apply([{ op: "SetField", id, field: "channel", value: i }], USER);
    const heads = store.heads();
    await store.close();
    store = await openTestStore(tmp.dir);
    expect(store.heads()).toEqual(heads);
    expect(store.getField(id, "channel")).toBe(20);
    expect(store.queryIds("table == 'lighting_fixtures' AND channel == ?", [20])).toEqual([id]);
  });

  it("history lists bundles newest first with their metadata, filterable by entity", async () => {
    const a = await fixture({ unit_number: "A1" });
    const b = await fixture({ unit_number: "B1" });
    await store.apply([{ op: "SetField", id: a, field: "channel", value: 3 }], { actor: { kind: "app", name: "console" }, origin: { note: "x" } });
    const all = await store.history();
    expect(all.map((h) => h.meta.actor.name)).toEqual(["console", "stage-manager", "stage-manager"]);
    expect(all[0].meta.origin).toEqual({ note: "x" });
    expect(all[0].meta.peer).toBe("peer-a");
    expect((await store.history({ entity: b })).length).toBe(1);
    expect(all[0].meta.hlc > all[1].meta.hlc).toBe(true);
  });

  it("reads at any point in history", async () => {
    const id = await fixture({ unit_number: "A1", channel: 1 });
    const h1 = store.heads();
    await store.apply([{ op: "SetField", id, field: "channel", value: 9 }], USER);
    expect(store.getField(id, "channel", { heads: h1 })).toBe(1);
    expect(store.queryIds("table == 'lighting_fixtures' AND channel == 1", [], { heads: h1 })).toEqual([id]);
    expect(store.queryIds("table == 'lighting_fixtures' AND channel == 1")).toEqual([]);
  });
});

describe("restarting a compacted workspace", () => {
  it("indexes saved at compaction plus the changes made since answer queries exactly", async () => {
    const a = await fixture({ unit_number: "A1", channel: 1 });
    const b = await fixture({ unit_number: "B1", channel: 2 });
    const list = await fixture({ unit_number: "LIST" });
    const e1 = (await store.apply([{ op: "CreateOrderedEdge", type: "in_cue_list", source: a, target: list }], USER)).results[0]?.edgeId as string;
    expect(store.queryIds("table == 'lighting_fixtures' AND unit_number == ?", ["A1"])).toEqual([a]);
    await store.compact();
    // Changes after the compaction: a new entity, a deletion, a field change, an edge.
    const c = await fixture({ unit_number: "C1", channel: 3 });
    await store.apply([{ op: "DeleteEntity", id: b }], USER);
    await store.apply([{ op: "SetField", id: a, field: "unit_number", value: "A2" }], USER);
    await store.apply([{ op: "CreateOrderedEdge", type: "in_cue_list", source: c, target: list, before: e1 }], USER);
    await store.close();
    store = await openTestStore(tmp.dir);
    expect(store.queryIds("table == 'lighting_fixtures' AND unit_number == ?", ["A1"])).toEqual([]);
    expect(store.queryIds("table == 'lighting_fixtures' AND unit_number == ?", ["A2"])).toEqual([a]);
    expect(store.queryIds("table == 'lighting_fixtures' AND unit_number == ?", ["C1"])).toEqual([c]);
    expect(store.queryIds("table == 'lighting_fixtures' ORDER BY channel").sort()).toEqual([a, c, list].sort());
    expect(store.orderedEdges(list, "in_cue_list").map((e) => e.source)).toEqual([c, a]);
  });
});
