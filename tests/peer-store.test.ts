import { afterEach, describe, expect, it } from "vitest";
import type { ChangeEvent } from "../daemon/crdt/change-feed.ts";
import type { Actor, Operation } from "../daemon/crdt/operations.ts";
import type { WorkspaceStore } from "../daemon/crdt/store.ts";
import { generateWorkspaceKey, storeSyncDocument } from "../daemon/peer/index.ts";
import type { SyncableStore } from "../daemon/peer/index.ts";
import { converged, eventually, makeTempDir, startShowPeer, stateOf, waitConverged } from "./fixtures/peer-show.ts";
import type { ShowPeer } from "./fixtures/peer-show.ts";
import { USER, WORKSPACE_ID } from "./helpers/store-fixture.ts";

const KEY = generateWorkspaceKey();
const cleanups: Array<() => unknown> = [];

afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()?.();
});

async function showPeer(): Promise<ShowPeer> {
  const dir = makeTempDir("openprod-peer-store-", cleanups);
  const p = await startShowPeer(dir, KEY);
  cleanups.push(() => p.close());
  return p;
}

/** Peers in a line: each later peer dials the one before it, so changes must hop. */
async function line(n: number): Promise<ShowPeer[]> {
  const peers: ShowPeer[] = [];
  for (let i = 0; i < n; i++) {
    const p = await showPeer();
    if (i > 0) await p.node.connect(peers[i - 1].node.addresses()[0]);
    peers.push(p);
  }
  return peers;
}

async function fixture(store: WorkspaceStore, fields: Record<string, string | number>): Promise<string> {
  const r = await store.apply([{ op: "CreateEntity", tables: ["lighting_fixtures"], fields }], USER);
  return r.results[0]?.id as string;
}

function script(name: string, runId: string): { actor: Actor; origin: Record<string, unknown> } {
  return { actor: { kind: "script", name, runId }, origin: { script: name, hash: "sha256:abc", runId } };
}

describe("edits made on any peer reach every peer's store", () => {
  it("two peers: edits on both sides converge to the same heads and the same query results", async () => {
    const [a, b] = await line(2);
    // The store itself is what the node syncs; it fits the seam without glue.
    const seam: SyncableStore = a.store;
    expect(storeSyncDocument(seam).workspaceId).toBe(WORKSPACE_ID);
    const id = await fixture(a.store, { unit_number: "A1", channel: 1, position: "FOH" });
    await fixture(b.store, { unit_number: "B7", channel: 7, position: "1st Electric" });
    await waitConverged("A and B converge", [a, b]);
    await a.store.apply([{ op: "SetField", id, field: "intensity", value: 0.75 }], USER);
    await waitConverged("A's edit reaches B", [a, b]);
    expect(b.store.getField(id, "intensity")).toBe(0.75);
    for (const p of [a, b]) {
      expect(p.store.queryIds("table == 'lighting_fixtures' AND unit_number == ?", ["A1"])).toEqual([id]);
      expect(p.store.query("table == 'lighting_fixtures' ORDER BY channel").map((e) => e.fields["lighting.fixture.unit_number"])).toEqual(["A1", "B7"]);
    }
  });

  it("three peers in a line: every peer's edits reach the far end", async () => {
    const peers = await line(3);
    for (let i = 0; i < 9; i++) await fixture(peers[i % 3].store, { unit_number: `U${i}`, channel: i });
    await waitConverged("A, B, C converge", peers);
    for (const p of peers) expect(p.store.queryIds("table == 'lighting_fixtures'")).toHaveLength(9);
  });
});

describe("concurrent edits of one field become the same conflict on every peer, and resolving it anywhere closes it everywhere", () => {
  it("three peers, two concurrent writers, resolved on the third", async () => {
    const [a, b, c] = await line(3);
    const id = await fixture(a.store, { unit_number: "A1", channel: 1 });
    await waitConverged("fixture everywhere", [a, b, c]);
    // Both bundles are committed before either peer can hear of the other's: truly concurrent.
    await Promise.all([
      a.store.apply([{ op: "SetField", id, field: "channel", value: 11 }], { actor: { kind: "user", name: "lx-op" } }),
      b.store.apply([{ op: "SetField", id, field: "channel", value: 22 }], { actor: { kind: "app", name: "lightwright-import" } }),
    ]);
    await waitConverged("conflict everywhere", [a, b, c]);
    const records = a.store.conflicts();
    expect(records).toHaveLength(1);
    for (const p of [b, c]) expect(JSON.stringify(p.store.conflicts())).toBe(JSON.stringify(records));
    const [rec] = records;
    expect(rec).toMatchObject({ entity: id, field: "lighting.fixture.channel" });
    expect(rec.values.map((v) => [v.peer, v.value, v.actor?.kind]).sort()).toEqual(
      [
        [a.peerId, 11, "user"],
        [b.peerId, 22, "app"],
      ].sort(),
    );
    for (const p of [a, b, c]) expect(p.store.getField(id, "channel")).toBe(rec.provisional);

    await c.store.resolveConflict(rec.id, 22, USER);
    await waitConverged("resolution everywhere", [a, b, c]);
    for (const p of [a, b, c]) {
      expect(p.store.conflicts()).toEqual([]);
      expect(p.store.getField(id, "channel")).toBe(22);
    }
  });
});

describe("a partitioned peer catches up when the network heals: conflicts recorded, nothing lost", () => {
  it("stop one node, edit on both sides, start it again", async () => {
    const [a, b, c] = await line(3);
    const id = await fixture(a.store, { unit_number: "A1", channel: 1, position: "FOH" });
    await waitConverged("before the partition", [a, b, c]);

    await c.node.stop();
    await eventually("B notices C left", () => b.node.peers().length === 1);
    const written: string[] = [];
    const keep = async (p: Promise<{ hash: string | null }>): Promise<void> => {
      const r = await p;
      if (r.hash !== null) written.push(r.hash);
    };
    await keep(a.store.apply([{ op: "SetField", id, field: "position", value: "1st Electric" }], USER));
    await keep(c.store.apply([{ op: "SetField", id, field: "position", value: "Box Boom L" }], USER));
    await keep(c.store.apply([{ op: "CreateEntity", tables: ["lighting_cues"], fields: { number: 1, label: "house out" } }], USER));
    await keep(b.store.apply([{ op: "CreateEntity", tables: ["lighting_cues"], fields: { number: 2, label: "preset" } }], USER));
    await waitConverged("A and B while C is away", [a, b]);
    expect(converged(a.store, c.store)).toBe(false);

    await c.node.start();
    await waitConverged("healed", [a, b, c]);
    for (const p of [a, b, c]) {
      expect(written.every((h) => p.store.hasHeads([h]))).toBe(true);
      expect(p.store.query("table == 'lighting_cues' ORDER BY number").map((e) => e.fields["lighting.cue.label"])).toEqual(["house out", "preset"]);
      expect(p.store.conflicts().map((r) => [r.entity, r.field])).toEqual([[id, "lighting.fixture.position"]]);
    }
    expect(stateOf(c.store)).toBe(stateOf(a.store));
  });
});

describe("bundles merged from a peer reach the change feed as remote, with the author's metadata", () => {
  it("a script's bundle on A arrives on B's feed with A's peer id, actor and provenance", async () => {
    const [a, b] = await line(2);
    const events: ChangeEvent[] = [];
    b.store.onChange((e) => events.push(e));
    const by = script("patch-fixtures", "run-42");
    const r = await a.store.apply([{ op: "CreateEntity", tables: ["lighting_fixtures"], fields: { unit_number: "S1", channel: 5 } }], by);
    const id = r.results[0]?.id as string;
    await eventually("B's feed shows the bundle", () => events.some((e) => e.bundles.some((x) => x.hash === r.hash)));
    const event = events.find((e) => e.bundles.some((x) => x.hash === r.hash)) as ChangeEvent;
    expect(event.origin).toBe("remote");
    const bundle = event.bundles.find((x) => x.hash === r.hash);
    expect(bundle?.meta).toMatchObject({ peer: a.peerId, actor: by.actor, origin: by.origin });
    expect(event.changes).toContainEqual(expect.objectContaining({ kind: "field", entity: id, field: "lighting.fixture.channel", newValue: 5 }));
    expect(events.every((e) => e.origin === "remote")).toBe(true);
  });
});

describe("several peers running the same script: attribution kept, no false conflicts", () => {
  async function rig(): Promise<{ a: ShowPeer; b: ShowPeer; ids: string[] }> {
    const [a, b] = await line(2);
    const ops: Operation[] = [];
    for (let i = 0; i < 120; i++) ops.push({ op: "CreateEntity", tables: ["lighting_fixtures"], fields: { unit_number: `F${i}`, channel: i } });
    const r = await a.store.apply(ops, USER);
    await waitConverged("rig everywhere", [a, b]);
    return { a, b, ids: r.results.map((x) => x?.id as string) };
  }

  it("two peers deriving the same values produce no conflicts, and both runs stay in history", async () => {
    const { a, b, ids } = await rig();
    const derive = (id: string, i: number): Operation => ({ op: "SetField", id, field: "dimmer", value: `D-${i}` });
    const [ra, rb] = await Promise.all([
      a.store.apply(ids.map(derive), script("derive-dimmers", "run-a")),
      b.store.apply(ids.map(derive), script("derive-dimmers", "run-b")),
    ]);
    await waitConverged("both runs merged", [a, b]);
    for (const p of [a, b]) {
      expect(p.store.conflicts()).toEqual([]);
      expect(p.store.getField(ids[7], "dimmer")).toBe("D-7");
      expect(p.store.hasHeads([ra.hash as string, rb.hash as string])).toBe(true);
    }
    const history = await a.store.history({ limit: 10 });
    expect(history.map((h) => h.meta.peer)).toEqual(expect.arrayContaining([a.peerId, b.peerId]));
  });

  it("two peers making the same bulk change with different values keep both attributions in one bulk conflict", async () => {
    const { a, b, ids } = await rig();
    await Promise.all([
      a.store.apply(ids.map((id) => ({ op: "SetField", id, field: "intensity", value: 0.5 })), script("level-set", "run-a")),
      b.store.apply(ids.map((id) => ({ op: "SetField", id, field: "intensity", value: 0.8 })), script("level-set", "run-b")),
    ]);
    await waitConverged("both runs merged", [a, b]);
    for (const p of [a, b]) {
      const records = p.store.conflicts();
      expect(records).toHaveLength(ids.length);
      for (const r of records) expect(r.values.map((v) => v.peer).sort()).toEqual([a.peerId, b.peerId].sort());
      const bulks = p.store.bulkConflicts();
      expect(bulks).toHaveLength(1);
      expect(bulks[0].sides.map((s) => s.peer).sort()).toEqual([a.peerId, b.peerId].sort());
      expect(bulks[0].sides.map((s) => s.changeSet).sort()).toEqual(["run-a", "run-b"]);
    }
    expect(JSON.stringify(b.store.bulkConflicts())).toBe(JSON.stringify(a.store.bulkConflicts()));
  });
});
