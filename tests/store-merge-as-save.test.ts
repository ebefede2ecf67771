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

async function store(peerId: string): Promise<{ store: WorkspaceStore; dir: string }> {
  const t = tempDir("openprod-merge-save-");
  cleanups.push(t.cleanup);
  const s = await openTestStore(t.dir, { peerId, compactEvery: NEVER_COMPACT });
  cleanups.push(() => s.close());
  return { store: s, dir: t.dir };
}

/** `n` bundles of one write each: a long history over a few entities. */
async function history(s: WorkspaceStore, ids: string[], n: number): Promise<void> {
  for (let i = 0; i < n; i++) await s.apply([{ op: "SetField", id: ids[i % ids.length], field: "intensity", value: i / n }], USER);
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

    // Syncing resumes from the persisted sync state: a later edit on either side reaches the other.
    await a.store.apply([{ op: "SetField", id: ids[2], field: "intensity", value: 0.5 }], USER);
    await reopened.apply([{ op: "SetField", id: ids[3], field: "intensity", value: 0.25 }], USER);
    await syncStores(a.store, reopened);
    expect(sorted(reopened)).toEqual(sorted(a.store));
    expect(reopened.getField(ids[2], "intensity")).toBe(0.5);
    expect(a.store.getField(ids[3], "intensity")).toBe(0.25);
  });

  it("a truncated catch-up message is refused with a clear error and changes nothing", async () => {
    const a = await store("peer-a");
    const ids = (await a.store.apply([{ op: "CreateEntity", tables: ["lighting_fixtures"], fields: { unit_number: "U1", channel: 1 } }], USER)).results.map((r) => r?.id as string);
    await history(a.store, ids, 1_100);
    const b = await store("peer-b");
    const sa = await a.store.openSyncSession("peer-b");
    const sb = await b.store.openSyncSession("peer-a");
    const headsBefore = sorted(b.store);
    let big: Uint8Array | null = null;
    for (let i = 0; i < 10 && big === null; i++) {
      const m1 = sa.generateMessage();
      if (m1 && api.decodeSyncMessage(m1).changes.length > 0) big = m1;
      else if (m1) await sb.receiveMessage(m1);
      const m2 = sb.generateMessage();
      if (m2) await sa.receiveMessage(m2);
    }
    expect(big).not.toBeNull();
    const truncated = (big as Uint8Array).subarray(0, Math.floor((big as Uint8Array).byteLength / 2));
    await expect(sb.receiveMessage(truncated)).rejects.toMatchObject({ code: "InvalidOperation", message: expect.stringContaining("peer-a") });
    expect(sorted(b.store)).toEqual(headsBefore);
    // The store still writes, and the whole message still applies.
    await sb.receiveMessage(big as Uint8Array);
    expect(sorted(b.store)).toEqual(sorted(a.store));
    await sa.close();
    await sb.close();
  });
});
