import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { WorkspaceStore } from "../daemon/crdt/store.ts";
import type { FieldValue } from "../daemon/crdt/operations.ts";
import { USER } from "./helpers/store-fixture.ts";
import { createFixture, openPair, sameEntity } from "./fixtures/store-pair.ts";
import type { StorePair } from "./fixtures/store-pair.ts";

let pair: StorePair;
let clock = 1_700_000_000_000;
beforeEach(async () => {
  pair = await openPair({ now: () => clock });
});
afterEach(async () => {
  await pair.close();
});

/** Every place a value can survive a merge: the entity's fields, or a conflict on it. */
function valuesOf(store: WorkspaceStore, id: string, field: string): FieldValue[] {
  const e = store.getEntity(id);
  const out: FieldValue[] = [];
  if (e.fields[field] !== undefined) out.push(e.fields[field]);
  for (const c of store.conflicts()) if ((c.entity === e.id || c.mergedInto === e.id) && c.field === field) out.push(...c.values.map((v) => v.value));
  return out;
}

function snapshot(store: WorkspaceStore, ids: string[]): unknown {
  return { entities: ids.map((id) => (store.entityExists(id) ? store.getEntity(id) : null)), conflicts: store.conflicts() };
}

describe("a merge on one copy and an edit of the merged entity on another lose nothing", () => {
  it("an edit of B made while another copy merged B into A ends up in A or in a conflict, alike on both", async () => {
    const a = await createFixture(pair.a, { unit_number: "A1", channel: 1 });
    const b = await createFixture(pair.a, { unit_number: "A1", channel: 2, dimmer: "D5" });
    await pair.sync();
    clock += 1000;
    await pair.a.apply([{ op: "MergeEntities", into: a, from: b, resolution: { channel: 1 } }], USER);
    clock += 1000;
    await pair.b.apply(
      [
        { op: "SetField", id: b, field: "dimmer", value: "D9" },
        { op: "SetField", id: b, field: "position", value: "1st Electric" },
      ],
      USER,
    );
    await pair.sync();
    expect(snapshot(pair.b, [a, b])).toEqual(snapshot(pair.a, [a, b]));
    sameEntity(pair.a, pair.b, a);
    expect(pair.a.getEntity(b).id).toBe(a);
    expect(valuesOf(pair.a, a, "lighting.fixture.dimmer")).toContain("D9");
    expect(valuesOf(pair.a, a, "lighting.fixture.position")).toContain("1st Electric");
  });

  it("a split of B made while another copy merged B into A keeps every value, alike on both", async () => {
    const a = await createFixture(pair.a, { unit_number: "A1", channel: 1 });
    const r = await pair.a.apply(
      [{ op: "CreateEntity", tables: ["lighting_fixtures", "contacts"], fields: { unit_number: "B1", dimmer: "D5", name: "Jo", email: "jo@x" } }],
      USER,
    );
    const b = r.results[0]?.id as string;
    await pair.sync();
    clock += 1000;
    await pair.a.apply([{ op: "MergeEntities", into: a, from: b, resolution: { unit_number: "A1" } }], USER);
    clock += 1000;
    const s = await pair.b.apply([{ op: "SplitEntity", source: b, distribution: { N1: ["sm.Contact"] } }], USER);
    const n = s.results[0]?.ids?.[0] as string;
    await pair.sync();
    expect(snapshot(pair.b, [a, b, n])).toEqual(snapshot(pair.a, [a, b, n]));
    expect(pair.a.getField(n, "name")).toBe("Jo");
    expect(valuesOf(pair.a, a, "lighting.fixture.dimmer")).toContain("D5");
    const contactSomewhere = [...valuesOf(pair.a, a, "sm.contact.email"), pair.a.getField(n, "email")];
    expect(contactSomewhere).toContain("jo@x");
  });
});

describe("an edit stranded by a concurrent merge can be chosen, on any copy", () => {
  it("resolving it writes the survivor on both copies and closes it everywhere, also after a restart", async () => {
    const a = await createFixture(pair.a, { unit_number: "A1", dimmer: "D1" });
    const b = await createFixture(pair.a, { unit_number: "A1", dimmer: "D1" });
    await pair.sync();
    clock += 1000;
    await pair.a.apply([{ op: "MergeEntities", into: a, from: b }], USER);
    clock += 1000;
    await pair.b.apply([{ op: "SetField", id: b, field: "dimmer", value: "D9" }], USER);
    await pair.sync();
    const [c] = pair.b.conflicts();
    expect(c).toMatchObject({ kind: "stranded", entity: b, mergedInto: a, field: "lighting.fixture.dimmer", provisional: "D1" });
    expect(pair.a.conflicts()).toEqual(pair.b.conflicts());
    const reopened = await pair.reopen("a");
    expect(reopened.conflicts()).toEqual(pair.b.conflicts());
    await pair.b.resolveConflict(c.id, "D9", USER);
    expect(pair.b.conflicts()).toEqual([]);
    await pair.sync();
    expect(pair.a.conflicts()).toEqual([]);
    expect(pair.a.getField(a, "dimmer")).toBe("D9");
    expect(pair.b.getField(b, "dimmer")).toBe("D9");
    await pair.reopen("b");
    expect(pair.b.conflicts()).toEqual([]);
  });
});

describe("merging one entity into two different ones at once is a conflict", () => {
  it("B merged into A on one copy and into C on the other: one conflict on B's @merged_into, same on both", async () => {
    const a = await createFixture(pair.a, { unit_number: "A1" });
    const b = await createFixture(pair.a, { unit_number: "B1", dimmer: "D5" });
    const c = await createFixture(pair.a, { unit_number: "C1" });
    await pair.sync();
    clock += 1000;
    // Padding ops give a's merge the higher Automerge op counter, so Automerge's own pick is A while
    // the later merge (into C) is what every copy must show.
    await pair.a.apply(
      [
        { op: "SetField", id: a, field: "position", value: "FOH" },
        { op: "SetField", id: a, field: "channel", value: 5 },
        { op: "SetField", id: a, field: "intensity", value: 0.5 },
        { op: "MergeEntities", into: a, from: b, resolution: { unit_number: "A1" } },
      ],
      USER,
    );
    clock += 1000;
    await pair.b.apply([{ op: "MergeEntities", into: c, from: b, resolution: { unit_number: "C1" } }], USER);
    await pair.sync();
    const ca = pair.a.conflicts().filter((x) => x.field === "@merged_into");
    expect(ca).toHaveLength(1);
    expect(ca[0].entity).toBe(b);
    expect(ca[0].values.map((v) => v.value).sort()).toEqual([a, c].sort());
    expect(ca[0].provisional).toBe(c);
    expect(pair.b.conflicts()).toEqual(pair.a.conflicts());
    // Reads of B follow the provisional winner, on both copies, until someone resolves.
    expect(pair.a.getEntity(b).id).toBe(c);
    expect(pair.b.getEntity(b).id).toBe(c);
    await pair.a.resolveConflict(ca[0].id, a, USER);
    await pair.sync();
    expect(pair.b.conflicts().filter((x) => x.field === "@merged_into")).toEqual([]);
    expect(pair.b.getEntity(b).id).toBe(a);
    expect(pair.a.getEntity(b).id).toBe(a);
    expect(snapshot(pair.b, [a, b, c])).toEqual(snapshot(pair.a, [a, b, c]));
  });
});
