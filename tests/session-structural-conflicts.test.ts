// Commit conflicts are not only field against field: an operation whose target canonical changed
// under the session (deleted, edited, moved, joined or left, written to) is reported in the same
// shape, in words, and a person keeps the script's operation or canonical's state.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Operation } from "../daemon/crdt/index.ts";
import { USER, openKit } from "./fixtures/runtime-kit/kit.ts";
import type { Kit } from "./fixtures/runtime-kit/kit.ts";

let kit: Kit;
beforeAll(async () => {
  kit = await openKit();
});
afterAll(async () => {
  await kit.close();
});

interface Rig {
  f1: string;
  f2: string;
  list: string;
  oe1: string;
  oe2: string;
}

async function rig(): Promise<Rig> {
  const r = await kit.store.apply(
    [
      { op: "CreateEntity", tables: ["lighting_fixtures"], fields: { channel: 1 } },
      { op: "CreateEntity", tables: ["lighting_fixtures"], fields: { channel: 2 } },
      { op: "CreateEntity", tables: ["scenes"], fields: { name: "list" } },
    ],
    USER,
  );
  const [f1, f2, list] = r.results.map((x) => x?.id as string);
  const e = await kit.store.apply(
    [
      { op: "CreateOrderedEdge", type: "in_cue_list", source: f1, target: list },
      { op: "CreateOrderedEdge", type: "in_cue_list", source: f2, target: list },
    ],
    USER,
  );
  const [oe1, oe2] = e.results.map((x) => x?.edgeId as string);
  return { f1, f2, list, oe1, oe2 };
}

/** The script's session (left open), then canonical's change, then a commit that must stop on a conflict. */
async function conflicted(lua: string, rg: Rig, canonical: Operation[]): Promise<{ sessionId: string; conflicts: { field: string; kind?: string; scriptValue: unknown; canonicalValue: unknown; id: string; entity: string }[] }> {
  const r = await kit.lua(lua, { executionMode: "session" }, { args: { ...rg } });
  expect(r.error).toBeUndefined();
  expect(r.sessionStatus).toBe("open");
  await kit.store.apply(canonical, USER);
  const out = await kit.runtime.commitSession(r.sessionId as string);
  expect(out.status).toBe("conflicts");
  return { sessionId: r.sessionId as string, conflicts: out.status === "conflicts" ? out.conflicts : [] };
}

describe("structural operations conflict at commit, in the same shape as field conflicts", () => {
  it("deleting an entity canonical edited since the snapshot: keep canonical and the entity stays", async () => {
    const rg = await rig();
    const { sessionId, conflicts } = await conflicted(`core.delete_entity(args.f1)`, rg, [{ op: "SetField", id: rg.f1, field: "channel", value: 9 }]);
    expect(conflicts).toEqual([
      expect.objectContaining({ kind: "structure", entity: rg.f1, field: "@entity", scriptValue: "delete the entity", canonicalValue: "canonical changed it: lighting.fixture.channel 1 → 9" }),
    ]);
    await kit.runtime.resolveSessionConflict(sessionId, conflicts[0].id, "canonical");
    await expect(kit.runtime.commitSession(sessionId)).resolves.toMatchObject({ status: "committed" });
    expect(kit.store.getField(rg.f1, "channel")).toBe(9);
  });

  it("the same with keep script: the entity is deleted", async () => {
    const rg = await rig();
    const { sessionId, conflicts } = await conflicted(`core.delete_entity(args.f1)`, rg, [{ op: "SetField", id: rg.f1, field: "channel", value: 9 }]);
    await kit.runtime.resolveSessionConflict(sessionId, conflicts[0].id, "script");
    await expect(kit.runtime.commitSession(sessionId)).resolves.toMatchObject({ status: "committed" });
    expect(kit.store.entityExists(rg.f1)).toBe(false);
  });

  it("editing the membership of an entity canonical deleted", async () => {
    const rg = await rig();
    const { conflicts } = await conflicted(`core.add_to_table(args.f2, "contacts")`, rg, [{ op: "DeleteEntity", id: rg.f2 }]);
    expect(conflicts).toEqual([expect.objectContaining({ kind: "structure", entity: rg.f2, field: "@deleted", canonicalValue: "the entity was deleted (or merged away) in canonical", entityDeleted: true })]);
  });

  it("moving an ordered edge canonical moved: keep script and the script's order wins", async () => {
    const rg = await rig();
    const { sessionId, conflicts } = await conflicted(`core.move_ordered_edge(args.oe2, { before = args.oe1 })`, rg, [
      { op: "MoveOrderedEdge", edgeId: rg.oe2, before: rg.oe1 },
      { op: "MoveOrderedEdge", edgeId: rg.oe2 },
    ]);
    expect(conflicts).toEqual([expect.objectContaining({ kind: "structure", entity: rg.oe2, field: "@position", scriptValue: "move the edge", canonicalValue: "canonical moved it too" })]);
    await kit.runtime.resolveSessionConflict(sessionId, conflicts[0].id, "script");
    await expect(kit.runtime.commitSession(sessionId)).resolves.toMatchObject({ status: "committed" });
    expect(kit.store.orderedEdges(rg.list, "in_cue_list").map((e) => e.id)).toEqual([rg.oe2, rg.oe1]);
  });

  it("leaving a table canonical already left: keep canonical drops the script's removal, and the commit goes through", async () => {
    const rg = await rig();
    const { sessionId, conflicts } = await conflicted(`core.remove_from_table(args.f1, "lighting_fixtures")`, rg, [{ op: "RemoveFromTable", id: rg.f1, table: "lighting_fixtures" }]);
    expect(conflicts).toEqual([expect.objectContaining({ kind: "structure", field: "@table:lighting_fixtures", scriptValue: "remove it from table lighting_fixtures", canonicalValue: "canonical removed it from table lighting_fixtures" })]);
    await kit.runtime.resolveSessionConflict(sessionId, conflicts[0].id, "canonical");
    await expect(kit.runtime.commitSession(sessionId)).resolves.toMatchObject({ status: "committed" });
  });

  it("detaching a facet canonical wrote to", async () => {
    const rg = await rig();
    const { conflicts } = await conflicted(`core.detach_facet(args.f1, "lighting.Fixture")`, rg, [{ op: "SetField", id: rg.f1, field: "channel", value: 5 }]);
    expect(conflicts).toEqual([expect.objectContaining({ kind: "structure", field: "@facet:lighting.Fixture", canonicalValue: "canonical wrote lighting.fixture.channel" })]);
  });

  it("merging an entity canonical changed", async () => {
    const rg = await rig();
    const { conflicts } = await conflicted(`core.merge_entities(args.f1, args.f2, { channel = 1 })`, rg, [{ op: "SetField", id: rg.f2, field: "channel", value: 7 }]);
    expect(conflicts).toEqual([expect.objectContaining({ kind: "structure", entity: rg.f2, field: "@entity", canonicalValue: "canonical changed it: lighting.fixture.channel 2 → 7" })]);
  });

  it("nothing changed under the operation: no conflict, the commit goes through", async () => {
    const rg = await rig();
    const r = await kit.lua(`core.delete_entity(args.f1)`, { executionMode: "session" }, { args: { ...rg } });
    await kit.store.apply([{ op: "SetField", id: rg.f2, field: "channel", value: 4 }], USER);
    await expect(kit.runtime.commitSession(r.sessionId as string)).resolves.toMatchObject({ status: "committed" });
    expect(kit.store.entityExists(rg.f1)).toBe(false);
  });
});
