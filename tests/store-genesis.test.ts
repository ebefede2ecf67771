import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { openTestStore, tempDir } from "./helpers/store-fixture.ts";
import { createFixture, openPair } from "./fixtures/store-pair.ts";
import type { StorePair } from "./fixtures/store-pair.ts";

let pair: StorePair;
beforeEach(async () => {
  pair = await openPair();
});
afterEach(async () => {
  await pair.close();
});

describe("copies of one workspace made independently start from the same first change", () => {
  it("two fresh stores for the same workspace id share the first change hash", async () => {
    expect(pair.a.heads()).toHaveLength(1);
    expect(pair.b.heads()).toEqual(pair.a.heads());
    const tmp = tempDir("openprod-store-genesis-");
    const other = await openTestStore(tmp.dir, { workspaceId: "another-show" });
    expect(other.heads()).not.toEqual(pair.a.heads());
    await other.close();
    tmp.cleanup();
  });

  it("entities created on each copy before they ever synced are all visible on both after sync", async () => {
    const onA = [await createFixture(pair.a, { unit_number: "A1", channel: 1 }), await createFixture(pair.a, { unit_number: "A2", channel: 2 })];
    const onB = [await createFixture(pair.b, { unit_number: "B1", channel: 3 })];
    await pair.b.apply([{ op: "CreateEdge", type: "mounted_at", source: onB[0], target: onB[0] }], { actor: { kind: "user", name: "x" } });
    await pair.sync();
    const all = [...onA, ...onB].sort();
    expect(pair.a.queryIds("table == 'lighting_fixtures'").sort()).toEqual(all);
    expect(pair.b.queryIds("table == 'lighting_fixtures'").sort()).toEqual(all);
    expect(pair.a.getField(onB[0], "unit_number")).toBe("B1");
    expect(pair.b.getField(onA[1], "channel")).toBe(2);
    expect(pair.a.edgesOf(onB[0])).toHaveLength(1);
    expect(pair.a.heads()).toEqual(pair.b.heads());
    expect(pair.a.conflicts()).toEqual([]);
  });
});
