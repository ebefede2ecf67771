/**
 * Peer sync over the real stack: WorkspaceStore (Automerge + LevelDB) on each
 * side, libp2p TCP + pnet + Noise + Yamux on loopback. The raw echo over the
 * same stack is the in-run baseline for the latency figures.
 *
 * `PEER_BENCH_JOIN` overrides the joining workspace size (default 100000).
 */
import { watchEventLoopGap } from "./event-loop-gap.ts";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { generateKeyPair } from "@libp2p/crypto/keys";
import type { Libp2p } from "@libp2p/interface";
import { multiaddr } from "@multiformats/multiaddr";
import type { Operation } from "../daemon/crdt/operations.ts";
import type { WorkspaceStore } from "../daemon/crdt/store.ts";
import { createPeerNode, createTransport, generateWorkspaceKey, loadOrCreatePeerId } from "../daemon/peer/index.ts";
import type { PeerNode } from "../daemon/peer/index.ts";
import { openTestStore, USER } from "../tests/helpers/store-fixture.ts";
import { size } from "./scale.ts";

const SAMPLES = size(300);
const WARMUP = size(20);
const LOOPBACK = ["/ip4/127.0.0.1/tcp/0"];
const ECHO_PROTOCOL = "/openprod/bench-echo/1.0.0";
const WRITES_PER_BUNDLE = 100;
const WRITES_PER_PEER = size(10_000, WRITES_PER_BUNDLE);
const JOIN_ENTITIES = process.env.PEER_BENCH_JOIN === undefined ? size(100_000) : Number(process.env.PEER_BENCH_JOIN);
// The store's per-entity history records grow with bundle size; small bundles keep the build linear.
const BUILD_BUNDLE = 25;

interface BenchPeer {
  store: WorkspaceStore;
  node: PeerNode;
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

function sortedHeads(store: WorkspaceStore): string {
  return [...store.heads()].sort().join(",");
}

async function until(check: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`bench timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 2));
  }
}

async function startPeer(key: Uint8Array, dirs: string[], peers: BenchPeer[]): Promise<BenchPeer> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "openprod-bench-peer-"));
  dirs.push(dir);
  const stateDir = path.join(dir, ".openprod");
  const store = await openTestStore(path.join(stateDir, "store"), { peerId: await loadOrCreatePeerId(stateDir) });
  const node = await createPeerNode({ stateDir, listen: LOOPBACK, workspaceKey: key, store, log: () => undefined });
  const peer = { store, node };
  peers.push(peer);
  return peer;
}

async function fixtures(store: WorkspaceStore, count: number, perBundle: number): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < count; i += perBundle) {
    const ops: Operation[] = [];
    for (let j = i; j < Math.min(count, i + perBundle); j++) ops.push({ op: "CreateEntity", tables: ["lighting_fixtures"], fields: { unit_number: `U${j}`, channel: j } });
    const r = await store.apply(ops, USER);
    for (const x of r.results) ids.push(x?.id as string);
  }
  return ids;
}

/** One set_field on A until the value is readable on B. */
async function syncLatencies(key: Uint8Array, dirs: string[], peers: BenchPeer[]): Promise<number[]> {
  const a = await startPeer(key, dirs, peers);
  const b = await startPeer(key, dirs, peers);
  await b.node.connect(a.node.addresses()[0]);
  const [id] = await fixtures(a.store, 1, 1);
  await until(() => b.store.entityExists(id), 10_000, "the fixture on B");
  const samples: number[] = [];
  for (let i = 0; i < SAMPLES + WARMUP; i++) {
    const value = `L${i}`;
    const arrived = new Promise<void>((resolve) => {
      const off = b.store.onChange(() => {
        if (b.store.getField(id, "dimmer") === value) {
          off();
          resolve();
        }
      });
    });
    const t0 = performance.now();
    await a.store.apply([{ op: "SetField", id, field: "dimmer", value }], USER);
    await arrived;
    if (i >= WARMUP) samples.push(performance.now() - t0);
  }
  return samples;
}

/** Raw round trip of a small message over the same libp2p stack. */
async function echoLatencies(key: Uint8Array): Promise<number[]> {
  const quiet = (): void => undefined;
  const nodes: Libp2p[] = [];
  try {
    const server = await createTransport({ privateKey: await generateKeyPair("Ed25519"), listen: LOOPBACK, workspaceKey: key, log: quiet });
    nodes.push(server);
    await server.handle(ECHO_PROTOCOL, (stream) => {
      stream.addEventListener("message", (evt) => stream.send(evt.data));
    });
    const client = await createTransport({ privateKey: await generateKeyPair("Ed25519"), listen: LOOPBACK, workspaceKey: key, log: quiet });
    nodes.push(client);
    const stream = await client.dialProtocol(multiaddr(server.getMultiaddrs()[0].toString()), ECHO_PROTOCOL);
    const payload = new Uint8Array(200);
    const samples: number[] = [];
    let pending: (() => void) | null = null;
    let received = 0;
    stream.addEventListener("message", (evt) => {
      received += evt.data.byteLength;
      if (received >= payload.byteLength && pending !== null) {
        received -= payload.byteLength;
        const done = pending;
        pending = null;
        done();
      }
    });
    for (let i = 0; i < SAMPLES + WARMUP; i++) {
      const back = new Promise<void>((resolve) => (pending = resolve));
      const t0 = performance.now();
      stream.send(payload);
      await back;
      if (i >= WARMUP) samples.push(performance.now() - t0);
    }
    await stream.close();
    return samples;
  } finally {
    for (const n of nodes) await n.stop();
  }
}

/**
 * Three connected peers each make 10k field writes (bundles of 100) on a shared
 * rig; a tenth of each peer's writes hit the same fields as the others with
 * different values. Time from the first write until all hold identical heads.
 */
async function converge3(key: Uint8Array, dirs: string[], peers: BenchPeer[]): Promise<{ ms: number; conflicts: number }> {
  const trio = [await startPeer(key, dirs, peers), await startPeer(key, dirs, peers), await startPeer(key, dirs, peers)];
  await trio[1].node.connect(trio[0].node.addresses()[0]);
  await trio[2].node.connect(trio[0].node.addresses()[0]);
  await trio[2].node.connect(trio[1].node.addresses()[0]);
  const ids = await fixtures(trio[0].store, size(1000), 100);
  await until(() => trio.every((p) => sortedHeads(p.store) === sortedHeads(trio[0].store)), 60_000, "the rig on all peers");
  const t0 = performance.now();
  await Promise.all(
    trio.map(async (p, peerIndex) => {
      for (let b = 0; b < WRITES_PER_PEER / WRITES_PER_BUNDLE; b++) {
        const ops: Operation[] = [];
        for (let k = 0; k < WRITES_PER_BUNDLE; k++) {
          const n = b * WRITES_PER_BUNDLE + k;
          // Every tenth write: the same intensity field on every peer (conflict); the rest: this peer's own field.
          if (n % 10 === 0) ops.push({ op: "SetField", id: ids[(n / 10) % ids.length], field: "intensity", value: peerIndex + n / 1e5 });
          else ops.push({ op: "SetField", id: ids[n % ids.length], field: ["position", "dimmer", "fixture_type"][peerIndex], value: `p${peerIndex}-${n}` });
        }
        await p.store.apply(ops, USER);
      }
    }),
  );
  await until(() => trio.every((p) => sortedHeads(p.store) === sortedHeads(trio[0].store)), 120_000, "three peers to converge");
  const ms = performance.now() - t0;
  return { ms, conflicts: trio[0].store.conflicts().length };
}

async function initialJoin(key: Uint8Array, dirs: string[], peers: BenchPeer[]): Promise<{ ms: number; maxGapMs: number }> {
  const serving = await startPeer(key, dirs, peers);
  await fixtures(serving.store, JOIN_ENTITIES, BUILD_BUNDLE);
  const joining = await startPeer(key, dirs, peers);
  const gap = watchEventLoopGap();
  let maxGapMs = 0;
  const t0 = performance.now();
  try {
    await joining.node.connect(serving.node.addresses()[0]);
    await until(() => sortedHeads(joining.store) === sortedHeads(serving.store), 600_000, "the joiner to hold the workspace");
  } finally {
    maxGapMs = gap.stop();
  }
  return { ms: performance.now() - t0, maxGapMs };
}

export async function run(report: (name: string, value: number, unit: string) => void): Promise<void> {
  const key = generateWorkspaceKey();
  const dirs: string[] = [];
  const peers: BenchPeer[] = [];
  const release = async (): Promise<void> => {
    for (const p of peers.splice(0)) {
      await p.node.stop();
      await p.store.close();
    }
  };
  try {
    const sync = (await syncLatencies(key, dirs, peers)).sort((x, y) => x - y);
    await release();
    const echo = (await echoLatencies(key)).sort((x, y) => x - y);
    const syncP50 = percentile(sync, 50);
    const echoP50 = percentile(echo, 50);
    report("sync.latency.ms.p50", syncP50, "ms");
    report("sync.latency.ms.p99", percentile(sync, 99), "ms");
    report("sync.raw_libp2p_echo.ms.p50", echoP50, "ms");
    report("sync.overhead_vs_raw_libp2p", syncP50 / echoP50, "ratio");

    const c3 = await converge3(key, dirs, peers);
    await release();
    report("sync.converge_3peers_10k.ms", c3.ms, "ms");
    report("sync.converge_3peers_10k.conflicts", c3.conflicts, "count");

    const join = await initialJoin(key, dirs, peers);
    await release();
    // The figure keeps its name at the default size, the smoke run's included.
    const suffix = process.env.PEER_BENCH_JOIN === undefined || JOIN_ENTITIES === 100_000 ? "100k" : `${JOIN_ENTITIES}`;
    report(`sync.initial_join_${suffix}.ms`, join.ms, "ms");
    report(`sync.initial_join_${suffix}.max_event_loop_gap.ms`, join.maxGapMs, "ms");
  } finally {
    await release();
    for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
  }
}

// Run directly: `npx tsx bench/peer.ts`
if (import.meta.url === `file://${process.argv[1]}`) {
  await run((name, value, unit) => console.log(JSON.stringify({ name, value: Number(value.toFixed(3)), unit })));
}
