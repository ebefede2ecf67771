import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { ConflictRecord } from "../daemon/crdt/conflicts.ts";
import { USER } from "./helpers/store-fixture.ts";
import { APP, createFixture, openPair, scriptInput } from "./fixtures/store-pair.ts";
import type { StorePair } from "./fixtures/store-pair.ts";

let pair: StorePair;
beforeEach(async () => {
  pair = await openPair();
});
afterEach(async () => {
  await pair.close();
});

/** What both copies must agree on, without per-copy details. */
function shape(c: ConflictRecord): unknown {
  return { id: c.id, entity: c.entity, field: c.field, container: c.container, provisional: c.provisional, values: c.values, bulk: c.bulk };
}

describe("two copies that edit the same field concurrently show one conflict after merging", () => {
  it("both copies list the same conflict with each value's peer, HLC and actor", async () => {
    const { a, b } = pair;
    const id = await createFixture(a, { unit_number: "A1", channel: 1 });
    await pair.sync();
    const ra = await a.apply([{ op: "SetField", id, field: "channel", value: 11 }], USER);
    const rb = await b.apply([{ op: "SetField", id, field: "channel", value: 22 }], scriptInput("run-7"));
    await pair.sync();

    const ca = a.conflicts();
    const cb = b.conflicts();
    expect(ca).toHaveLength(1);
    expect(cb.map(shape)).toEqual(ca.map(shape));
    const c = ca[0];
    expect(c.entity).toBe(id);
    expect(c.field).toBe("lighting.fixture.channel");
    const byValue = new Map(c.values.map((v) => [v.value, v]));
    expect(byValue.get(11)).toMatchObject({ peer: "peer-a", hlc: ra.hlc, bundle: ra.hash, actor: USER.actor, changeSet: ra.hash });
    expect(byValue.get(22)).toMatchObject({
      peer: "peer-b",
      hlc: rb.hlc,
      bundle: rb.hash,
      actor: { kind: "script", name: "patch_import", runId: "run-7" },
      changeSet: "run-7",
    });
  });

  it("both copies show the same provisional value: the one with the latest HLC", async () => {
    const { a, b } = pair;
    const id = await createFixture(a, { unit_number: "A1", channel: 1 });
    await pair.sync();
    // Build both copies' channel index now, so the merge has to keep it right.
    for (const s of [a, b]) expect(s.queryIds("table == 'lighting_fixtures' AND channel == 1")).toEqual([id]);
    // b writes second, so its HLC is later whatever the wall clocks say (b observed a's HLC when syncing).
    // a's padding ops give its write the higher Automerge op counter: Automerge's own pick is a's value,
    // yet every copy must show b's (the later HLC), in reads and in queries.
    await a.apply(
      [
        { op: "SetField", id, field: "position", value: "FOH" },
        { op: "SetField", id, field: "dimmer", value: "D1" },
        { op: "SetField", id, field: "channel", value: 11 },
      ],
      USER,
    );
    const late = await b.apply([{ op: "SetField", id, field: "channel", value: 22 }], APP);
    await pair.sync();
    const [c] = a.conflicts();
    const latest = c.values.reduce((x, y) => ((x.hlc ?? "") > (y.hlc ?? "") ? x : y));
    expect(latest.hlc).toBe(late.hlc);
    expect(c.provisional).toBe(latest.value);
    expect(a.getField(id, "channel")).toBe(c.provisional);
    expect(b.getField(id, "channel")).toBe(c.provisional);
    expect(c.provisional).toBe(22);
    expect(a.getField(id, "channel", { heads: a.heads() })).toBe(11);
    for (const s of [a, b]) {
      expect(s.queryIds("table == 'lighting_fixtures' AND channel == ?", [22])).toEqual([id]);
      expect(s.queryIds("table == 'lighting_fixtures' AND channel == ?", [11])).toEqual([]);
    }
    // Choosing Automerge's own pick changes what every copy shows, though the winning value stays 11.
    const events: unknown[] = [];
    b.onChange((e) => events.push(...e.changes.filter((x) => x.kind === "field")));
    await a.resolveConflict(c.id, 11, USER);
    await pair.sync();
    expect(events).toEqual([expect.objectContaining({ entity: id, field: "lighting.fixture.channel", oldValue: 22, newValue: 11 })]);
    for (const s of [a, b]) {
      expect(s.getField(id, "channel")).toBe(11);
      expect(s.queryIds("table == 'lighting_fixtures' AND channel == ?", [11])).toEqual([id]);
      expect(s.queryIds("table == 'lighting_fixtures' AND channel == ?", [22])).toEqual([]);
    }
  });

  it("resolving on one copy and syncing closes the conflict on both, with the chosen value", async () => {
    const { a, b } = pair;
    const id = await createFixture(a, { unit_number: "A1", channel: 1 });
    await pair.sync();
    await a.apply([{ op: "SetField", id, field: "channel", value: 11 }], USER);
    await b.apply([{ op: "SetField", id, field: "channel", value: 22 }], USER);
    await pair.sync();
    const [c] = b.conflicts();
    await b.resolveConflict(c.id, 11, USER);
    expect(b.conflicts()).toEqual([]);
    await pair.sync();
    expect(a.conflicts()).toEqual([]);
    expect(a.getField(id, "channel")).toBe(11);
    expect(b.getField(id, "channel")).toBe(11);
    expect(a.queryIds("table == 'lighting_fixtures' AND channel == 22")).toEqual([]);
  });

  it("conflicts survive a restart of either copy", async () => {
    const { a, b } = pair;
    const id = await createFixture(a, { unit_number: "A1", channel: 1 });
    await pair.sync();
    await a.apply([{ op: "SetField", id, field: "channel", value: 11 }], USER);
    await b.apply([{ op: "SetField", id, field: "channel", value: 22 }], USER);
    await pair.sync();
    const before = a.conflicts().map(shape);
    expect(before).toHaveLength(1);
    const reopened = await pair.reopen("a");
    expect(reopened.conflicts().map(shape)).toEqual(before);
  });

  it("both copies writing the same value is no conflict", async () => {
    const { a, b } = pair;
    const id = await createFixture(a, { unit_number: "A1", channel: 1, position: "FOH" });
    await pair.sync();
    await a.apply([{ op: "SetField", id, field: "channel", value: 5 }, { op: "SetField", id, field: "position", value: "1st Electric" }], USER);
    await b.apply([{ op: "SetField", id, field: "channel", value: 5 }, { op: "SetField", id, field: "position", value: "1st Electric" }], APP);
    await pair.sync();
    expect(a.conflicts()).toEqual([]);
    expect(b.conflicts()).toEqual([]);
    expect(a.getField(id, "channel")).toBe(5);
    expect(b.getField(id, "position")).toBe("1st Electric");
  });
});
