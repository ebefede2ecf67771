import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { WorkspaceStore } from "../daemon/crdt/store.ts";
import type { Operation } from "../daemon/crdt/operations.ts";
import { USER } from "./helpers/store-fixture.ts";
import { openPair, scriptInput } from "./fixtures/store-pair.ts";
import type { StorePair } from "./fixtures/store-pair.ts";

let pair: StorePair;
beforeEach(async () => {
  pair = await openPair();
});
afterEach(async () => {
  await pair.close();
});

const CHANNEL = "lighting.fixture.channel";

/** `n` fixtures made on copy a (one bundle) and synced to b. */
async function rig(n: number): Promise<string[]> {
  const ops: Operation[] = [];
  for (let i = 0; i < n; i++) ops.push({ op: "CreateEntity", tables: ["lighting_fixtures"], fields: { unit_number: `U${i}`, channel: i } });
  const r = await pair.a.apply(ops, USER);
  await pair.sync();
  return r.results.map((x) => x?.id as string);
}

/** Each copy renumbers every fixture in one bundle: a to 1000+i, b to 2000+i. */
async function renumberBoth(ids: string[]): Promise<void> {
  await pair.a.apply(ids.map((id, i) => ({ op: "SetField", id, field: "channel", value: 1000 + i })), USER);
  await pair.b.apply(ids.map((id, i) => ({ op: "SetField", id, field: "channel", value: 2000 + i })), { actor: { kind: "app", name: "console" } });
  await pair.sync();
}

function channels(store: WorkspaceStore, ids: string[]): unknown[] {
  return ids.map((id) => store.getField(id, "channel"));
}

describe("more than 100 conflicts between two bulk edits are one bulk conflict", () => {
  it("groups the conflicts of two bundles into one bulk conflict, identical on both copies", async () => {
    const ids = await rig(110);
    await renumberBoth(ids);
    const ba = pair.a.bulkConflicts();
    expect(ba).toHaveLength(1);
    expect(ba[0].count).toBe(110);
    expect(ba[0].sides.map((s) => s.peer).sort()).toEqual(["peer-a", "peer-b"]);
    expect(pair.b.bulkConflicts()).toEqual(ba);
    expect(pair.a.conflicts().every((c) => c.bulk === ba[0].id && c.field === CHANNEL)).toBe(true);
  });

  it('"ours" on one copy keeps that copy\'s values everywhere after sync', async () => {
    const ids = await rig(110);
    await renumberBoth(ids);
    const [bulk] = pair.a.bulkConflicts();
    await pair.a.resolveBulk(bulk.id, "ours", USER);
    expect(pair.a.conflicts()).toEqual([]);
    await pair.sync();
    expect(pair.b.conflicts()).toEqual([]);
    expect(pair.b.bulkConflicts()).toEqual([]);
    const expected = ids.map((_, i) => 1000 + i);
    expect(channels(pair.a, ids)).toEqual(expected);
    expect(channels(pair.b, ids)).toEqual(expected);
  });

  it('"theirs" on the other copy keeps the other side\'s values everywhere after sync', async () => {
    const ids = await rig(110);
    await renumberBoth(ids);
    const [bulk] = pair.b.bulkConflicts();
    await pair.b.resolveBulk(bulk.id, "theirs", USER);
    await pair.sync();
    expect(pair.a.conflicts()).toEqual([]);
    expect(pair.b.conflicts()).toEqual([]);
    const expected = ids.map((_, i) => 1000 + i);
    expect(channels(pair.a, ids)).toEqual(expected);
    expect(channels(pair.b, ids)).toEqual(expected);
  });

  it("a script run spread over many autoCommit bundles is one side of a bulk conflict", async () => {
    const ids = await rig(105);
    await pair.a.apply(ids.map((id, i) => ({ op: "SetField", id, field: "channel", value: 1000 + i })), USER);
    for (const [i, id] of ids.entries()) {
      await pair.b.apply([{ op: "SetField", id, field: "channel", value: 2000 + i }], scriptInput("run-42"));
    }
    await pair.sync();
    const bulks = pair.a.bulkConflicts();
    expect(bulks).toHaveLength(1);
    expect(bulks[0].count).toBe(105);
    expect(bulks[0].sides.map((s) => s.changeSet)).toContain("run-42");
    expect(pair.b.bulkConflicts()).toEqual(bulks);
    await pair.a.resolveBulk(bulks[0].id, "run-42", USER);
    await pair.sync();
    expect(pair.b.conflicts()).toEqual([]);
    expect(channels(pair.b, ids)).toEqual(ids.map((_, i) => 2000 + i));
    expect(channels(pair.a, ids)).toEqual(ids.map((_, i) => 2000 + i));
  });

  it("the conflicts of a bulk conflict can also be resolved one by one", async () => {
    const ids = await rig(102);
    await renumberBoth(ids);
    expect(pair.a.bulkConflicts()).toHaveLength(1);
    for (const c of pair.a.conflicts()) {
      const mine = c.values.find((v) => v.peer === "peer-b");
      await pair.a.resolveConflict(c.id, mine?.value ?? null, USER);
    }
    expect(pair.a.conflicts()).toEqual([]);
    expect(pair.a.bulkConflicts()).toEqual([]);
    await pair.sync();
    expect(pair.b.conflicts()).toEqual([]);
    expect(channels(pair.b, ids)).toEqual(ids.map((_, i) => 2000 + i));
  });

  it("100 or fewer conflicts stay individual", async () => {
    const ids = await rig(100);
    await renumberBoth(ids);
    expect(pair.a.conflicts()).toHaveLength(100);
    expect(pair.a.bulkConflicts()).toEqual([]);
    expect(pair.a.conflicts().some((c) => c.bulk !== undefined)).toBe(false);
    expect(pair.b.bulkConflicts()).toEqual([]);
  });
});
