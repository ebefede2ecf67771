import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { ChangeEvent } from "../daemon/crdt/change-feed.ts";
import { USER } from "./helpers/store-fixture.ts";
import { APP, createFixture, openPair } from "./fixtures/store-pair.ts";
import type { StorePair } from "./fixtures/store-pair.ts";

let pair: StorePair;
beforeEach(async () => {
  pair = await openPair();
});
afterEach(async () => {
  await pair.close();
});

function record(store: { onChange(l: (e: ChangeEvent) => void): () => void }): ChangeEvent[] {
  const events: ChangeEvent[] = [];
  store.onChange((e) => events.push(e));
  return events;
}

describe("the change feed tells what every bundle changed, local or merged", () => {
  it("a local bundle gives field events with old and new values, origin local and the bundle's metadata", async () => {
    const id = await createFixture(pair.a, { unit_number: "A1", channel: 1 });
    const events = record(pair.a);
    const r = await pair.a.apply(
      [
        { op: "SetField", id, field: "channel", value: 2 },
        { op: "SetField", id, field: "position", value: "FOH" },
      ],
      { ...APP, origin: { note: "renumber" } },
    );
    expect(events).toHaveLength(1);
    const [e] = events;
    expect(e.origin).toBe("local");
    expect(e.heads).toEqual([r.hash]);
    expect(e.bundles).toEqual([{ hash: r.hash, meta: expect.objectContaining({ hlc: r.hlc, peer: "peer-a", actor: APP.actor, origin: { note: "renumber" }, ops: 2, entities: [id] }) }]);
    expect(e.changes).toEqual([
      expect.objectContaining({ kind: "field", entity: id, field: "lighting.fixture.channel", oldValue: 1, newValue: 2 }),
      expect.objectContaining({ kind: "field", entity: id, field: "lighting.fixture.position", oldValue: null, newValue: "FOH" }),
    ]);
  });

  it("merged bundles give origin remote with the author's metadata", async () => {
    const id = await createFixture(pair.a, { unit_number: "A1", channel: 1 });
    await pair.sync();
    const events = record(pair.b);
    const r = await pair.a.apply([{ op: "SetField", id, field: "channel", value: 7 }], APP);
    await pair.sync();
    const remote = events.filter((e) => e.origin === "remote");
    expect(remote).toHaveLength(1);
    expect(remote[0].bundles.map((x) => x.hash)).toEqual([r.hash]);
    expect(remote[0].bundles[0].meta).toMatchObject({ peer: "peer-a", actor: APP.actor, hlc: r.hlc });
    expect(remote[0].changes).toEqual([expect.objectContaining({ kind: "field", entity: id, field: "lighting.fixture.channel", oldValue: 1, newValue: 7 })]);
    expect(events.some((e) => e.origin === "local")).toBe(false);
  });

  it("indexes follow remote merges: the receiving copy finds a remote entity by an indexed field", async () => {
    const seed = await createFixture(pair.b, { unit_number: "S", channel: 1 });
    // Build b's field index first, so the merge has to update it rather than a fresh scan.
    expect(pair.b.queryIds("table == 'lighting_fixtures' AND channel == ?", [1])).toEqual([seed]);
    const id = await createFixture(pair.a, { unit_number: "R1", channel: 42 });
    await pair.sync();
    expect(pair.b.queryIds("table == 'lighting_fixtures' AND channel == ?", [42])).toEqual([id]);
    expect(pair.b.queryIds("table == 'lighting_fixtures' AND unit_number == 'R1'")).toEqual([id]);
    await pair.a.apply([{ op: "SetField", id, field: "channel", value: 43 }], USER);
    await pair.a.apply([{ op: "DeleteEntity", id: seed }], USER);
    await pair.sync();
    expect(pair.b.queryIds("table == 'lighting_fixtures' AND channel == ?", [42])).toEqual([]);
    expect(pair.b.queryIds("table == 'lighting_fixtures' AND channel == ?", [43])).toEqual([id]);
    expect(pair.b.queryIds("table == 'lighting_fixtures' AND channel == ?", [1])).toEqual([]);
    expect(pair.b.queryIds("table == 'lighting_fixtures'").sort()).toEqual([id]);
  });
});
