import { afterEach, describe, expect, it } from "vitest";
import { inspectStorage } from "../daemon/crdt/persistence/index.ts";
import type { Operation } from "../daemon/crdt/operations.ts";
import type { WorkspaceStore } from "../daemon/crdt/store.ts";
import { USER, openTestStore, tempDir } from "./helpers/store-fixture.ts";

let tmp: { dir: string; cleanup: () => void } | null = null;
let store: WorkspaceStore | null = null;

afterEach(async () => {
  await store?.close();
  tmp?.cleanup();
  store = null;
  tmp = null;
});

async function open(compactEvery: number): Promise<WorkspaceStore> {
  tmp = tempDir();
  store = await openTestStore(tmp.dir, { compactEvery });
  return store;
}

async function createFixtures(s: WorkspaceStore, n: number): Promise<string[]> {
  const ops: Operation[] = [];
  for (let i = 0; i < n; i++) ops.push({ op: "CreateEntity", tables: ["lighting_fixtures"], fields: { unit_number: `U${i}`, channel: i, position: `pipe ${i}` } });
  return (await s.apply(ops, USER)).results.map((r) => r?.id as string);
}

describe("compaction keeps the cost of a long history flat", () => {
  it("a short history compacts every compact_every bundles", async () => {
    const s = await open(5);
    const [id] = await createFixtures(s, 1);
    for (let i = 0; i < 6; i++) await s.apply([{ op: "SetField", id, field: "channel", value: 100 + i }], USER);
    // The compaction runs after the bundle that made it due was acknowledged.
    await s.compacted();
    const report = await inspectStorage(tmp!.dir);
    expect(report.snapshot).not.toBeNull();
  });

  it("bundles written while a background compaction saves are kept, in the save or the log after it", async () => {
    const s = await open(5);
    const ids = await createFixtures(s, 50);
    const writes: Promise<unknown>[] = [];
    // Writes keep coming while compactions start and finish behind them.
    for (let i = 0; i < 300; i++) writes.push(s.apply([{ op: "SetField", id: ids[i % ids.length], field: "channel", value: 7000 + i }], USER));
    await Promise.all(writes);
    await s.compacted();
    const report = await inspectStorage(tmp!.dir);
    expect(report.snapshot).not.toBeNull();
    expect(report.changes.every((c, i) => c.seq === report.snapshot!.uptoSeq + 1 + i)).toBe(true);
    const heads = s.heads();
    await s.close();
    store = await openTestStore(tmp!.dir, { compactEvery: 5 });
    expect(store.hasHeads(heads)).toBe(true);
    for (let i = 250; i < 300; i++) expect(store.getField(ids[i % ids.length], "channel")).toBe(7000 + i);
  });

  it("after a big full save, compaction waits until the changes stored since are as big as it", async () => {
    const s = await open(5);
    const ids = await createFixtures(s, 500);
    await s.compact();
    const saved = await inspectStorage(tmp!.dir);
    const saveSize = saved.snapshot!.size;
    const savedUpto = saved.snapshot!.uptoSeq;
    // Far more than compact_every bundles, far fewer bytes than the save: no compaction yet.
    for (let i = 0; i < 20; i++) await s.apply([{ op: "SetField", id: ids[i], field: "channel", value: 1000 + i }], USER);
    const before = await inspectStorage(tmp!.dir);
    expect(before.snapshot!.uptoSeq).toBe(savedUpto);
    expect(before.changes).toHaveLength(20);
    expect(before.changes.reduce((sum, c) => sum + c.size, 0)).toBeLessThan(saveSize);
    // Writing on: a compaction comes once the stored changes have reached the save's size.
    let written = 20;
    let after = before;
    while (after.snapshot!.uptoSeq === savedUpto && written < 20_000) {
      for (let i = 0; i < 100; i++, written++) await s.apply([{ op: "SetField", id: ids[written % ids.length], field: "channel", value: 5000 + written }], USER);
      after = await inspectStorage(tmp!.dir);
    }
    expect(after.snapshot!.uptoSeq).toBeGreaterThan(savedUpto);
    // Every change made since the save is kept, in the new save or the log.
    await s.close();
    store = await openTestStore(tmp!.dir, { compactEvery: 5 });
    expect(store.getField(ids[(written - 1) % ids.length], "channel")).toBe(5000 + written - 1);
  });
});
