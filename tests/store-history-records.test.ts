/**
 * The history is kept as records written with each bundle (daemon/crdt/history-records.ts).
 * Whatever happened to the store — merges with another peer, restarts, compactions, a store from
 * before the records, records damaged or missing — `history` answers exactly what the document
 * itself says (the history written afresh from the document), never a short history.
 */
import path from "node:path";
import { Level } from "level";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { WorkspaceStore } from "../daemon/crdt/store.ts";
import { NS_HISTORY } from "../daemon/crdt/history-records.ts";
import { openTestStore, syncStores, tempDir, USER } from "./helpers/store-fixture.ts";

const OTHER = { actor: { kind: "app" as const, name: "console" } };

let tmp: { dir: string; cleanup: () => void };
let open: WorkspaceStore[] = [];

beforeEach(() => {
  tmp = tempDir("openprod-history-records-");
  open = [];
});

afterEach(async () => {
  for (const s of open) await s.close();
  tmp.cleanup();
});

const dirOf = (name: string): string => path.join(tmp.dir, name);

async function openStore(name: string, peerId: string, compactEvery?: number): Promise<WorkspaceStore> {
  const store = await openTestStore(dirOf(name), { peerId, ...(compactEvery === undefined ? {} : { compactEvery }) });
  open.push(store);
  return store;
}

async function closeStore(store: WorkspaceStore): Promise<void> {
  open = open.filter((s) => s !== store);
  await store.close();
}

async function create(store: WorkspaceStore, unit: string): Promise<string> {
  const r = await store.apply([{ op: "CreateEntity", tables: ["lighting_fixtures"], fields: { unit_number: unit } }], USER);
  return r.results[0]?.id as string;
}

/** Every question `history` takes (all, a short limit, each entity) and the bundle count. */
async function answers(store: WorkspaceStore, entities: string[]): Promise<unknown> {
  const byEntity: Record<string, unknown> = {};
  for (const e of [...entities, "no-such-entity"]) byEntity[e] = await store.history({ entity: e, limit: 100_000 });
  return {
    all: await store.history({ limit: 100_000 }),
    newest3: await store.history({ limit: 3 }),
    newest1ofFirst: await store.history({ entity: entities[0], limit: 1 }),
    byEntity,
    count: store.bundleCount(),
  };
}

async function historyKeys(store: WorkspaceStore): Promise<string[]> {
  const keys: string[] = [];
  for await (const k of store.records(NS_HISTORY).keys()) keys.push(k);
  return keys;
}

/** The store as one from before the history records: none of them. */
async function dropHistoryRecords(store: WorkspaceStore): Promise<void> {
  await store.writeRecords((await historyKeys(store)).map((key) => ({ namespace: NS_HISTORY, key, value: null })));
}

/** What the document alone says: the records dropped, the store reopened, the history written afresh. */
async function rebuiltAnswers(name: string, peerId: string, entities: string[]): Promise<unknown> {
  const store = await openStore(name, peerId);
  await dropHistoryRecords(store);
  await closeStore(store);
  const rebuilt = await openStore(name, peerId);
  const out = await answers(rebuilt, entities);
  await closeStore(rebuilt);
  return out;
}

/** Two peers writing, merging both ways, one of them compacting often. */
async function twoPeerHistory(): Promise<{ a: WorkspaceStore; b: WorkspaceStore; entities: string[] }> {
  const a = await openStore("a", "peer-a", 5);
  const b = await openStore("b", "peer-b");
  const x = await create(a, "A1");
  const y = await create(a, "A2");
  await syncStores(a, b);
  for (let i = 0; i < 12; i++) {
    await a.apply([{ op: "SetField", id: x, field: "intensity", value: i / 100 }], USER);
    await b.apply([{ op: "SetField", id: i % 2 ? x : y, field: "channel", value: i }], OTHER);
  }
  // One bundle touching both, one that changes nothing (no bundle), concurrent edits merged.
  await b.apply([{ op: "SetField", id: x, field: "intensity", value: 0.5 }, { op: "SetField", id: y, field: "intensity", value: 0.5 }], OTHER);
  await a.apply([{ op: "SetField", id: x, field: "intensity", value: 0.11 }], USER);
  await a.apply([{ op: "SetField", id: x, field: "intensity", value: 0.11 }], USER);
  await syncStores(a, b);
  const z = await create(b, "B1");
  await syncStores(a, b);
  return { a, b, entities: [x, y, z] };
}

describe("the persisted history answers exactly as the document does", () => {
  it("after local writes, merges both ways and compactions, on both peers", async () => {
    const { a, b, entities } = await twoPeerHistory();
    const onA = await answers(a, entities);
    const onB = await answers(b, entities);
    // Same heads, same history on both peers.
    expect(onB).toEqual(onA);
    const { all, count } = onA as { all: unknown[]; count: number };
    expect(count).toBe(all.length);
    expect(count).toBeGreaterThan(25);
    await closeStore(a);
    await closeStore(b);
    expect(await rebuiltAnswers("a", "peer-a", entities)).toEqual(onA);
    expect(await rebuiltAnswers("b", "peer-b", entities)).toEqual(onB);
  });

  it("after a restart, and after more bundles written on the reopened store", async () => {
    const { a, b, entities } = await twoPeerHistory();
    const before = await answers(a, entities);
    const had = (before as { all: unknown[] }).all.length;
    await closeStore(a);
    await closeStore(b);
    const reopened = await openStore("a", "peer-a", 5);
    expect(await answers(reopened, entities)).toEqual(before);
    await reopened.apply([{ op: "SetField", id: entities[2], field: "channel", value: 99 }], USER);
    await reopened.compact();
    const after = await answers(reopened, entities);
    expect((after as { all: unknown[] }).all).toHaveLength(had + 1);
    await closeStore(reopened);
    expect(await rebuiltAnswers("a", "peer-a", entities)).toEqual(after);
  });

  it("a bundle is listed once it is durable, newest first, with the metadata it was written with", async () => {
    const store = await openStore("a", "peer-a");
    const id = await create(store, "U1");
    const r = await store.apply([{ op: "SetField", id, field: "intensity", value: 0.3 }], { ...USER, origin: { note: "go" } });
    const [newest] = await store.history({ limit: 1 });
    expect(newest).toMatchObject({ hash: r.hash, meta: { hlc: r.hlc, peer: "peer-a", actor: USER.actor, entities: [id], origin: { note: "go" }, ops: 1 } });
  });
});

describe("a store without the records, or with them damaged, answers the whole history", () => {
  it("a store from before the records gets them written once at open", async () => {
    const { a, b, entities } = await twoPeerHistory();
    const expected = await answers(a, entities);
    await dropHistoryRecords(a);
    await closeStore(a);
    await closeStore(b);
    const migrated = await openStore("a", "peer-a");
    expect(await historyKeys(migrated)).toContain("state");
    expect(await answers(migrated, entities)).toEqual(expected);
    await closeStore(migrated);
    // Persisted: the next open trusts them as they are.
    const again = await openStore("a", "peer-a");
    expect(await answers(again, entities)).toEqual(expected);
  });

  it("records dropped under a running store are written afresh from the document at the next listing", async () => {
    const { a, entities } = await twoPeerHistory();
    const expected = await answers(a, entities);
    await dropHistoryRecords(a);
    expect(await answers(a, entities)).toEqual(expected);
    expect((await historyKeys(a)).length).toBeGreaterThan((expected as { count: number }).count);
  });

  it("a missing bundle record is noticed and the history rebuilt, for a listing and for an entity's", async () => {
    const { a, entities } = await twoPeerHistory();
    const expected = await answers(a, entities);
    const keys = await historyKeys(a);
    const bundleKey = keys.filter((k) => k.startsWith("b:")).at(-2) as string;
    await a.writeRecords([{ namespace: NS_HISTORY, key: bundleKey, value: null }]);
    expect(await a.history({ entity: entities[0], limit: 100_000 })).toEqual((expected as { byEntity: Record<string, unknown> }).byEntity[entities[0]]);
    await a.writeRecords([{ namespace: NS_HISTORY, key: bundleKey, value: null }]);
    expect(await a.history({ limit: 100_000 })).toEqual((expected as { all: unknown }).all);
    expect(await answers(a, entities)).toEqual(expected);
  });

  it("a record that fails its checksum on disk is rebuilt from the document", async () => {
    const { a, b, entities } = await twoPeerHistory();
    const expected = await answers(a, entities);
    const bundleKey = (await historyKeys(a)).filter((k) => k.startsWith("b:"))[3];
    await closeStore(a);
    await closeStore(b);
    const raw = new Level<string, Uint8Array>(dirOf("a"), { keyEncoding: "utf8", valueEncoding: "view" });
    await raw.open();
    const full = `r:${NS_HISTORY}\u0000${bundleKey}`;
    const value = Uint8Array.from((await raw.get(full)) as Uint8Array);
    value[value.length - 2] ^= 0x40;
    await raw.put(full, value);
    await raw.close();
    const reopened = await openStore("a", "peer-a");
    expect(await answers(reopened, entities)).toEqual(expected);
  });

  it("records behind the document (bundles written without them, as by an older daemon) are written afresh at open", async () => {
    const { a, b, entities } = await twoPeerHistory();
    const stale = await a.records(NS_HISTORY).get("state");
    await a.apply([{ op: "SetField", id: entities[1], field: "channel", value: 7 }], USER);
    const expected = await answers(a, entities);
    // The state record as it was before the last bundle, and that bundle's records gone.
    const newest = (await a.history({ limit: 1 }))[0];
    const last = (await historyKeys(a)).filter((k) => k.endsWith(newest.hash));
    await a.writeRecords([{ namespace: NS_HISTORY, key: "state", value: stale ?? null }, ...last.map((key) => ({ namespace: NS_HISTORY, key, value: null }))]);
    await closeStore(a);
    await closeStore(b);
    const reopened = await openStore("a", "peer-a");
    expect(await answers(reopened, entities)).toEqual(expected);
  });
});
