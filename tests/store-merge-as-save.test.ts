import { afterEach, describe, expect, it } from "vitest";
import { api } from "../daemon/crdt/automerge-backend.ts";
import { openPersistence } from "../daemon/crdt/persistence/index.ts";
import type { Operation } from "../daemon/crdt/operations.ts";
import type { WorkspaceStore } from "../daemon/crdt/store.ts";
import { persistsAsSave } from "../daemon/crdt/store-merge.ts";
import { openTestStore, syncStores, tempDir, USER } from "./helpers/store-fixture.ts";

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()?.();
});

// No compaction of its own: what the store holds after the join is what the merge wrote.
const NEVER_COMPACT = 1_000_000;

async function store(peerId: string, compactEvery = NEVER_COMPACT): Promise<{ store: WorkspaceStore; dir: string }> {
  const t = tempDir("openprod-merge-save-");
  cleanups.push(t.cleanup);
  const s = await openTestStore(t.dir, { peerId, compactEvery });
  cleanups.push(() => s.close());
  return { store: s, dir: t.dir };
}

/** `n` bundles of one write each: a long history over a few entities. */
async function history(s: WorkspaceStore, ids: string[], n: number): Promise<void> {
  for (let i = 0; i < n; i++) await s.apply([{ op: "SetField", id: ids[i % ids.length], field: "intensity", value: i / n }], USER);
}

type Session = Awaited<ReturnType<WorkspaceStore["openSyncSession"]>>;

/** Runs the sync conversation until `from` sends a message carrying changes, and returns it unapplied. */
async function catchUpMessage(from: Session, to: Session): Promise<Uint8Array> {
  for (let i = 0; i < 10; i++) {
    const m1 = from.generateMessage();
    if (m1 && api.decodeSyncMessage(m1).changes.length > 0) return m1;
    if (m1) await to.receiveMessage(m1);
    const m2 = to.generateMessage();
    if (m2) await from.receiveMessage(m2);
  }
  throw new Error("no catch-up message in 10 rounds");
}

function sorted(s: WorkspaceStore): string[] {
  return [...s.heads()].sort();
}

function conflictView(s: WorkspaceStore): unknown {
  return s.conflicts().map((c) => ({ id: c.id, entity: c.entity, field: c.field, values: c.values.map((v) => v.value).sort(), provisional: c.provisional }));
}

describe("a peer catching up on most of the history stores it as one save", () => {
  it("chooses a save only for a merge of many changes that is a large part of the history", () => {
    expect(persistsAsSave(10, 11)).toBe(false);
    expect(persistsAsSave(200_000, 200_002)).toBe(true);
    expect(persistsAsSave(1_000, 200_000)).toBe(false);
    expect(persistsAsSave(60_000, 200_000)).toBe(true);
  });

  it("a fresh peer joining a long history holds the same document and conflicts, stored as a save, after a reopen too", async () => {
    const a = await store("peer-a");
    const c = await store("peer-c");
    const ops: Operation[] = [];
    for (let i = 0; i < 5; i++) ops.push({ op: "CreateEntity", tables: ["lighting_fixtures"], fields: { unit_number: `U${i}`, channel: i } });
    const ids = (await a.store.apply(ops, USER)).results.map((r) => r?.id as string);
    await syncStores(a.store, c.store);
    // Concurrent edits of one field: a conflict the joiner must find in what it receives.
    await a.store.apply([{ op: "SetField", id: ids[0], field: "channel", value: 101 }], USER);
    await c.store.apply([{ op: "SetField", id: ids[0], field: "channel", value: 202 }], { actor: { kind: "user", name: "other" } });
    await syncStores(a.store, c.store);
    await history(a.store, ids, 1_200);
    expect(a.store.conflicts()).toHaveLength(1);

    const b = await store("peer-b");
    await syncStores(a.store, b.store);
    expect(sorted(b.store)).toEqual(sorted(a.store));
    expect(conflictView(b.store)).toEqual(conflictView(a.store));
    // The joined history is listed as the source lists it (its records follow the save, in batches).
    const hashes = async (s: WorkspaceStore, entity?: string): Promise<string[]> => (await s.history({ entity, limit: 2_000 })).map((h) => h.hash);
    expect(await hashes(b.store)).toEqual(await hashes(a.store));
    expect(await hashes(b.store, ids[1])).toEqual(await hashes(a.store, ids[1]));
    expect(b.store.bundleCount()).toBe(a.store.bundleCount());
    expect(b.store.getField(ids[1], "intensity")).toBe(a.store.getField(ids[1], "intensity"));

    await b.store.close();
    const persistence = await openPersistence({ dir: b.dir });
    const stored = await persistence.load();
    await persistence.close();
    // One save and no per-change records: the join did not write 1,200 change records.
    expect(stored.snapshot).not.toBeNull();
    expect(stored.changes.length).toBeLessThan(5);
    const reopened = await openTestStore(b.dir, { peerId: "peer-b", compactEvery: NEVER_COMPACT });
    cleanups.push(() => reopened.close());
    expect(sorted(reopened)).toEqual(sorted(a.store));
    expect(conflictView(reopened)).toEqual(conflictView(a.store));
    expect(await hashes(reopened)).toEqual(await hashes(a.store));

    // Syncing resumes from the persisted sync state: a later edit on either side reaches the other.
    await a.store.apply([{ op: "SetField", id: ids[2], field: "intensity", value: 0.5 }], USER);
    await reopened.apply([{ op: "SetField", id: ids[3], field: "intensity", value: 0.25 }], USER);
    await syncStores(a.store, reopened);
    expect(sorted(reopened)).toEqual(sorted(a.store));
    expect(reopened.getField(ids[2], "intensity")).toBe(0.5);
    expect(a.store.getField(ids[3], "intensity")).toBe(0.25);
  });

  it("a join stored as a save while the joiner's own compaction is under way loses neither side, and lists the joined history", async () => {
    const a = await store("peer-a");
    const ids = (await a.store.apply([{ op: "CreateEntity", tables: ["lighting_fixtures"], fields: { unit_number: "U1", channel: 1 } }], USER)).results.map((r) => r?.id as string);
    await history(a.store, ids, 1_200);
    // B compacts every 20 bundles. The catch-up message is taken first, then B writes the 20th bundle
    // and takes it at once: the join lands while B's background compaction is saving (its replica starting).
    const b = await store("peer-b", 20);
    const own = (await b.store.apply([{ op: "CreateEntity", tables: ["lighting_fixtures"], fields: { unit_number: "B1", channel: 2 } }], USER)).results.map((r) => r?.id as string);
    const sa = await a.store.openSyncSession("peer-b");
    const sb = await b.store.openSyncSession("peer-a");
    const big = await catchUpMessage(sa, sb);
    await history(b.store, own, 19);
    await sb.receiveMessage(big);
    await sa.close();
    await sb.close();
    await syncStores(a.store, b.store);
    await b.store.apply([{ op: "SetField", id: own[0], field: "intensity", value: 0.75 }], USER);
    await b.store.compacted();
    await b.store.compact();
    const expected = sorted(b.store);
    const listed = (await b.store.history({ limit: 5 })).map((h) => h.hash);
    await b.store.close();
    const reopened = await openTestStore(b.dir, { peerId: "peer-b", compactEvery: 20 });
    cleanups.push(() => reopened.close());
    expect(sorted(reopened)).toEqual(expected);
    expect(reopened.getField(own[0], "intensity")).toBe(0.75);
    expect(reopened.getField(ids[0], "intensity")).toBe(a.store.getField(ids[0], "intensity"));
    expect((await reopened.history({ limit: 5 })).map((h) => h.hash)).toEqual(listed);
    expect(await reopened.history({ entity: ids[0], limit: 1_500 })).toHaveLength(1_201);
  });

  it("a truncated catch-up message is refused with a clear error and changes nothing", async () => {
    const a = await store("peer-a");
    const ids = (await a.store.apply([{ op: "CreateEntity", tables: ["lighting_fixtures"], fields: { unit_number: "U1", channel: 1 } }], USER)).results.map((r) => r?.id as string);
    await history(a.store, ids, 1_100);
    const b = await store("peer-b");
    const sa = await a.store.openSyncSession("peer-b");
    const sb = await b.store.openSyncSession("peer-a");
    const headsBefore = sorted(b.store);
    const big = await catchUpMessage(sa, sb);
    const truncated = big.subarray(0, Math.floor(big.byteLength / 2));
    await expect(sb.receiveMessage(truncated)).rejects.toMatchObject({ code: "InvalidOperation", message: expect.stringContaining("peer-a") });
    expect(sorted(b.store)).toEqual(headsBefore);
    // The store still writes, and the whole message still applies.
    await sb.receiveMessage(big);
    expect(sorted(b.store)).toEqual(sorted(a.store));
    await sa.close();
    await sb.close();
  });
});
