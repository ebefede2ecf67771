/**
 * Store figures (issue: the workspace store). Ratios compare two things
 * measured in this same run.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { loadModules } from "../daemon/config/index.ts";
import { Level } from "level";
import { createBackend, loadBackend } from "../daemon/crdt/automerge-backend.ts";
import type { Backend } from "../daemon/crdt/automerge-backend.ts";
import { ENTITIES } from "../daemon/crdt/layout.ts";
import { openPersistence } from "../daemon/crdt/persistence/index.ts";
import type { Operation } from "../daemon/crdt/operations.ts";
import type { Schema } from "../daemon/crdt/schema.ts";
import { WorkspaceStore } from "../daemon/crdt/store.ts";
import { levelPersistence } from "../daemon/crdt/persistence/index.ts";
import { size } from "./scale.ts";

type Report = (name: string, value: number, unit: string) => void;

const SHOW = path.resolve(import.meta.dirname, "../examples/show");
const WS = "ws-bench";
const USER = { actor: { kind: "user" as const, name: "bench" } };

function temp(): string {
  return mkdtempSync(path.join(tmpdir(), "openprod-bench-"));
}

function fixtureFields(i: number): Record<string, string | number> {
  return { unit_number: `U${i}`, channel: i, dimmer: `D${i % 500}`, position: i % 2 ? "FOH" : "1st Electric", intensity: (i % 100) / 100 };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

function gc(): void {
  (globalThis as { gc?: () => void }).gc?.();
}

async function populate(schema: Schema, dir: string, n: number, opts: { fsync?: boolean } = {}): Promise<{ store: WorkspaceStore; ids: string[] }> {
  const store = await WorkspaceStore.open({ persistence: levelPersistence({ dir, fsync: opts.fsync }), schema, workspaceId: WS, peerId: "bench-a", compactEvery: 1_000_000 });
  const ids: string[] = [];
  const CHUNK = 10_000;
  for (let start = 0; start < n; start += CHUNK) {
    const ops: Operation[] = [];
    for (let i = start; i < Math.min(n, start + CHUNK); i++) ops.push({ op: "CreateEntity", tables: ["lighting_fixtures"], fields: fixtureFields(i) });
    const r = await store.apply(ops, USER);
    for (const x of r.results) ids.push(x?.id as string);
  }
  return { store, ids };
}

async function setFieldCost(store: WorkspaceStore, ids: string[], count: number): Promise<number> {
  const samples: number[] = [];
  for (let i = 0; i < count + 200; i++) {
    const id = ids[(i * 7919) % ids.length];
    const t = performance.now();
    await store.apply([{ op: "SetField", id, field: "channel", value: 1_000_000 + i }], USER);
    if (i >= 200) samples.push((performance.now() - t) * 1000);
  }
  return median(samples);
}

export async function run(report: Report): Promise<void> {
  const schema = (await loadModules(SHOW)).schema;
  const dirs: string[] = [];
  try {
    // set_field at 1k and 100k
    const d1 = temp();
    dirs.push(d1);
    const small = await populate(schema, d1, size(1_000, 10));
    const at1k = await setFieldCost(small.store, small.ids, size(3000));
    await small.store.close();
    report("store.set_field.us@1k", at1k, "us");

    gc();
    const rssBefore = process.memoryUsage().rss;
    const d2 = temp();
    dirs.push(d2);
    const BIG = size(100_000);
    const big = await populate(schema, d2, BIG);
    gc();
    report("store.memory.bytes_per_entity@100k", (process.memoryUsage().rss - rssBefore) / BIG, "bytes");
    const at100k = await setFieldCost(big.store, big.ids, size(3000));
    report("store.set_field.us@100k", at100k, "us");
    report("store.set_field.growth", at100k / at1k, "ratio");

    // indexed equality query on the real store
    const q = "table == 'lighting_fixtures' AND unit_number == ?";
    big.store.queryIds(q, ["U1"]);
    const qs: number[] = [];
    for (let i = 0; i < size(5000); i++) {
      const t = performance.now();
      big.store.queryIds(q, [`U${(i * 7919) % BIG}`]);
      qs.push((performance.now() - t) * 1000);
    }
    report("query.eq_indexed.us@100k", median(qs), "us");

    // cold start: compacted 100k workspace, open until the first indexed query answers
    await big.store.compact();
    await big.store.close();

    // The floor under that bundle, on the same 100k workspace (its durable state, loaded raw).
    const floor = await setFieldFloor(d2, big.ids, schema.resolveField("channel").key, size(3000), dirs);
    report("store.set_field.floor.automerge.us", floor.automerge, "us");
    report("store.set_field.floor.level_batch.us", floor.level, "us");
    report("store.set_field.floor.us", floor.automerge + floor.level, "us");
    report("store.set_field.overhead_vs_floor", at100k / (floor.automerge + floor.level), "ratio");
    gc();
    const t0 = performance.now();
    const reopened = await WorkspaceStore.open({ persistence: levelPersistence({ dir: d2 }), schema, workspaceId: WS, peerId: "bench-a" });
    reopened.queryIds(q, ["U77"]);
    report("store.cold_start.ms@100k", performance.now() - t0, "ms");

    // fsync, 16 writers at once
    const d3 = temp();
    dirs.push(d3);
    await reopened.close();
    const fs = await WorkspaceStore.open({ persistence: levelPersistence({ dir: d2, fsync: true }), schema, workspaceId: WS, peerId: "bench-a" });
    const ids = big.ids;
    const ROUNDS = size(40);
    const tf = performance.now();
    for (let r = 0; r < ROUNDS; r++) {
      await Promise.all(
        Array.from({ length: 16 }, (_, w) => fs.apply([{ op: "SetField", id: ids[((r * 16 + w) * 37) % ids.length], field: "channel", value: r * 16 + w + 5_000_000 }], USER)),
      );
    }
    const fsyncUs = ((performance.now() - tf) * 1000) / (ROUNDS * 16);
    report("store.set_field.us@100k_fsync", fsyncUs, "us");
    // The same load once the reopened document has taken writes (see docs/performance.md: the
    // first writes after a load pay for Automerge splitting the loaded columns).
    const tw = performance.now();
    for (let r = 0; r < ROUNDS; r++) {
      await Promise.all(
        Array.from({ length: 16 }, (_, w) => fs.apply([{ op: "SetField", id: ids[((r * 16 + w) * 37) % ids.length], field: "channel", value: r * 16 + w + 6_000_000 }], USER)),
      );
    }
    report("store.set_field.us@100k_fsync.second_pass", ((performance.now() - tw) * 1000) / (ROUNDS * 16), "us");
    await fs.close();
    const rawSync = await rawSyncedWrite(size(200), dirs);
    report("store.fsync.raw_level_sync.us", rawSync, "us");
    report("store.fsync.overhead_vs_raw_sync", fsyncUs / rawSync, "ratio");

    // hot field: one field written 100k times
    const d4 = temp();
    dirs.push(d4);
    const hot = await populate(schema, d4, 10);
    const hid = hot.ids[0];
    const timeWrites = async (n: number, base: number): Promise<number> => {
      const t = performance.now();
      for (let i = 0; i < n; i++) await hot.store.apply([{ op: "SetField", id: hid, field: "intensity", value: (base + i) / 1e6 }], USER);
      return ((performance.now() - t) * 1000) / n;
    };
    await timeWrites(size(200), 0);
    const first = await timeWrites(size(1000), 1000);
    await timeWrites(size(98_000), 10_000);
    const last = await timeWrites(size(1000), 200_000);
    report("store.hot_field.growth", last / first, "ratio");
    await hot.store.close();

    // months of history: one fader-like field per entity written over and over, compacting at the daemon's default
    const dh = temp();
    dirs.push(dh);
    const history = await historyGrowth(schema, dh, size(50_000, 300), size(10_000, 100));
    report("store.history_growth@50k", history.growth, "ratio");
    report("store.ack_stall.ms.max@50k", history.maxAckMs, "ms");

    // bulk create vs raw Automerge, same values, one change each (after a small warm-up of both paths)
    const rawBulk = (n: number): number => {
      const raw = createBackend();
      const tr = performance.now();
      const ents = raw.putObject("_root", "entities", {});
      for (let i = 0; i < n; i++) {
        const f = fixtureFields(i);
        raw.putObject(ents, `E${String(i).padStart(25, "0")}`, {
          "lighting.fixture.unit_number": f.unit_number,
          "lighting.fixture.channel": f.channel,
          "lighting.fixture.dimmer": f.dimmer,
          "lighting.fixture.position": f.position,
          "lighting.fixture.intensity": f.intensity,
        });
      }
      raw.commit("bulk", 0);
      const ms = performance.now() - tr;
      raw.free();
      return ms;
    };
    const storeBulk = async (n: number): Promise<number> => {
      const d = temp();
      dirs.push(d);
      const bulkStore = await WorkspaceStore.open({ persistence: levelPersistence({ dir: d }), schema, workspaceId: WS, peerId: "bench-a" });
      const ops: Operation[] = [];
      for (let i = 0; i < n; i++) ops.push({ op: "CreateEntity", tables: ["lighting_fixtures"], fields: fixtureFields(i) });
      const tb = performance.now();
      await bulkStore.apply(ops, USER);
      const ms = performance.now() - tb;
      await bulkStore.close();
      return ms;
    };
    rawBulk(size(5_000));
    await storeBulk(size(5_000));
    const N = size(100_000);
    const rawMs = rawBulk(N);
    const storeMs = await storeBulk(N);
    report("store.bulk_create.ms@100k", storeMs, "ms");
    report("store.bulk_create.raw_automerge.ms@100k", rawMs, "ms");
    report("store.bulk_create.overhead_vs_raw", storeMs / rawMs, "ratio");

    // merging 10k concurrent field writes from another copy
    const da = temp();
    const db = temp();
    dirs.push(da, db);
    const a = await populate(schema, da, size(10_000));
    const b = await WorkspaceStore.open({ persistence: levelPersistence({ dir: db }), schema, workspaceId: WS, peerId: "bench-b" });
    await exchange(a.store, b);
    const opsA: Operation[] = a.ids.map((id, i) => ({ op: "SetField", id, field: "channel", value: i + 1 }));
    const opsB: Operation[] = a.ids.map((id, i) => ({ op: "SetField", id, field: "channel", value: -(i + 1) }));
    await a.store.apply(opsA, USER);
    await b.apply(opsB, { actor: { kind: "user", name: "other" } });
    const tm = performance.now();
    await exchange(a.store, b, true);
    report("merge.concurrent_10k.ms", performance.now() - tm, "ms");
    report("merge.concurrent_10k.conflicts", a.store.conflicts().length, "conflicts");
    await a.store.close();
    await b.close();
  } finally {
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  }
}

/**
 * `total` single-field writes to a 100-entity workspace compacting every 1000
 * bundles (the daemon's default `compact_every`): per-write cost over the last
 * `window` writes divided by the first `window`, and the longest wait for one
 * acknowledgement (a compaction's full save happens inside some write).
 */
async function historyGrowth(schema: Schema, dir: string, total: number, window: number): Promise<{ growth: number; maxAckMs: number }> {
  const store = await WorkspaceStore.open({ persistence: levelPersistence({ dir }), schema, workspaceId: WS, peerId: "bench-a", compactEvery: 1000 });
  try {
    const ops: Operation[] = [];
    for (let i = 0; i < 100; i++) ops.push({ op: "CreateEntity", tables: ["lighting_fixtures"], fields: fixtureFields(i) });
    const ids = (await store.apply(ops, USER)).results.map((r) => r?.id as string);
    let maxAckMs = 0;
    let firstMs = 0;
    let windowStart = performance.now();
    for (let n = 0; n < total; n++) {
      const t = performance.now();
      await store.apply([{ op: "SetField", id: ids[n % ids.length], field: "intensity", value: (n % 1000) / 1000 + 0.0001 }], USER);
      maxAckMs = Math.max(maxAckMs, performance.now() - t);
      if (n === window - 1) firstMs = performance.now() - windowStart;
      if (n === total - window - 1) windowStart = performance.now();
    }
    return { growth: (performance.now() - windowStart) / firstMs, maxAckMs };
  } finally {
    await store.close();
  }
}

/**
 * What one durable single-field bundle cannot cost less than: raw Automerge
 * (put + commit + getChangeByHash) on a copy of the workspace in `dir`, and a
 * raw LevelDB batch appending the same change record and heads record. The two
 * are timed in alternation so both see the same machine load.
 */
async function setFieldFloor(dir: string, ids: string[], fieldKey: string, count: number, dirs: string[]): Promise<{ automerge: number; level: number }> {
  const persistence = await openPersistence({ dir, fsync: false, readOnly: true });
  let be: Backend;
  try {
    const loaded = await persistence.load();
    be = loaded.snapshot ? loadBackend(loaded.snapshot.bytes) : createBackend();
    if (loaded.changes.length) be.applyChanges(loaded.changes.map((c) => c.bytes));
  } finally {
    await persistence.close();
  }
  const ents = be.getWithType("_root", ENTITIES);
  if (!ents || ents[0] !== "map") throw new Error(`bench: the workspace in ${dir} has no ${ENTITIES} map`);
  const rawDir = temp();
  dirs.push(rawDir);
  const db = new Level<string, Uint8Array>(rawDir, { keyEncoding: "utf8", valueEncoding: "view" });
  await db.open();
  const am: number[] = [];
  const lv: number[] = [];
  try {
    for (let i = 0; i < count + 200; i++) {
      const entity = be.getWithType(ents[1] as string, ids[(i * 7919) % ids.length]);
      if (!entity || entity[0] !== "map") throw new Error(`bench: entity ${ids[(i * 7919) % ids.length]} is missing from the raw copy`);
      let t = performance.now();
      be.put(entity[1] as string, fieldKey, 2_000_000 + i, "int");
      const hash = be.commit("floor", 0) as string;
      const bytes = be.getChangeByHash(hash) as Uint8Array;
      if (i >= 200) am.push((performance.now() - t) * 1000);
      t = performance.now();
      await db.batch([
        { type: "put", key: "c:" + String(i).padStart(16, "0"), value: bytes },
        { type: "put", key: "m:heads", value: new TextEncoder().encode(hash) },
      ]);
      if (i >= 200) lv.push((performance.now() - t) * 1000);
    }
  } finally {
    await db.close();
    be.free();
  }
  return { automerge: median(am), level: median(lv) };
}

/** One synced raw LevelDB write at a time: what `fsync = true` cannot cost less than per sync. */
async function rawSyncedWrite(count: number, dirs: string[]): Promise<number> {
  const rawDir = temp();
  dirs.push(rawDir);
  const db = new Level<string, Uint8Array>(rawDir, { keyEncoding: "utf8", valueEncoding: "view" });
  await db.open();
  const value = new Uint8Array(120).fill(7);
  const t = performance.now();
  for (let i = 0; i < count; i++) await db.put("c:" + String(i).padStart(16, "0"), value, { sync: true });
  const us = ((performance.now() - t) * 1000) / count;
  await db.close();
  return us;
}

/** Run Automerge sync between two stores until quiet; `oneWay` stops once A has B's changes. */
async function exchange(a: WorkspaceStore, b: WorkspaceStore, oneWay = false): Promise<void> {
  const sa = await a.openSyncSession(b.peerId);
  const sb = await b.openSyncSession(a.peerId);
  for (let i = 0; i < 100; i++) {
    const m1 = sa.generateMessage();
    if (m1) await sb.receiveMessage(m1);
    const m2 = sb.generateMessage();
    if (m2) await sa.receiveMessage(m2);
    if (!m1 && !m2) break;
    if (oneWay && i > 1 && a.conflicts().length > 0 && !m2) break;
  }
  await sa.close();
  await sb.close();
}

if (import.meta.url === `file://${process.argv[1]}`) {
  await run((name, value, unit) => console.log(JSON.stringify({ name, value, unit })));
}
