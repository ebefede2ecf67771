/**
 * Months of history (issue 16): a fader-like load — 200,000 single-field writes to a 100-entity
 * workspace at the daemon's default `compact_every = 1000` — then what that history costs a
 * restart, a history listing and a fresh peer joining.
 * - store.history_growth@200k: per-write cost over the last 10k writes divided by the first 10k.
 * - store.ack_stall.ms.max@200k: the longest wait for one acknowledgement.
 * - store.cold_start.ms@200k_history: reopening the store until the first query answers.
 * - history.recent20.ms@200k_history: the 20 latest bundles from the store that made them (what
 *   a running daemon answers); `.no_daemon`: open the store, list them, close it (the CLI alone).
 * - sync.join_200k_history.ms: a fresh peer over loopback libp2p until it holds the same heads.
 * - sync.join.max_event_loop_gap.ms: the longest event-loop gap meanwhile (both peers run in this
 *   process, so it bounds what the joiner's socket would wait).
 * - sync.join.rss_vs_source: the process's RSS growth while the joiner joined, divided by the
 *   source's footprint: RSS with the source open and serving over RSS before this suite opened
 *   any store (both peers run in this one process; `.mb` figures give the two sides).
 */
import { watchEventLoopGap } from "./event-loop-gap.ts";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import type { Operation } from "../daemon/crdt/operations.ts";
import type { WorkspaceStore } from "../daemon/crdt/store.ts";
import { createPeerNode, generateWorkspaceKey, loadOrCreatePeerId } from "../daemon/peer/index.ts";
import type { PeerNode } from "../daemon/peer/index.ts";
import { openTestStore, USER } from "../tests/helpers/store-fixture.ts";
import { size } from "./scale.ts";

type Report = (name: string, value: number, unit: string) => void;

const WRITES = size(200_000, 300);
const WINDOW = size(10_000, 100);
const ENTITIES = 100;
const LOOPBACK = ["/ip4/127.0.0.1/tcp/0"];

function gc(): void {
  (globalThis as { gc?: () => void }).gc?.();
}

function rss(): number {
  gc();
  return process.memoryUsage().rss;
}

function sortedHeads(store: WorkspaceStore): string {
  return [...store.heads()].sort().join(",");
}

export async function run(report: Report): Promise<void> {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), "openprod-bench-history-"));
  const stateA = path.join(root, "a", ".openprod");
  const stateB = path.join(root, "b", ".openprod");
  const storeDir = path.join(stateA, "store");
  const open: { node?: PeerNode; store?: WorkspaceStore }[] = [];
  const rssAtStart = rss();
  try {
    fs.mkdirSync(stateA, { recursive: true });
    const peerA = await loadOrCreatePeerId(stateA);
    const writer = await openTestStore(storeDir, { peerId: peerA, compactEvery: 1000 });
    open.push({ store: writer });
    const ops: Operation[] = [];
    for (let i = 0; i < ENTITIES; i++) ops.push({ op: "CreateEntity", tables: ["lighting_fixtures"], fields: { unit_number: `U${i}`, channel: i } });
    const ids = (await writer.apply(ops, USER)).results.map((r) => r?.id as string);

    let maxAckMs = 0;
    let firstMs = 0;
    let windowStart = performance.now();
    for (let n = 0; n < WRITES; n++) {
      const t = performance.now();
      await writer.apply([{ op: "SetField", id: ids[n % ENTITIES], field: "intensity", value: (n % 1000) / 1000 + 0.0001 }], USER);
      maxAckMs = Math.max(maxAckMs, performance.now() - t);
      if (n === WINDOW - 1) firstMs = performance.now() - windowStart;
      if (n === WRITES - WINDOW - 1) windowStart = performance.now();
    }
    report("store.history_growth@200k", (performance.now() - windowStart) / firstMs, "ratio");
    report("store.ack_stall.ms.max@200k", maxAckMs, "ms");

    let t0 = performance.now();
    const recent = await writer.history({ limit: 20 });
    report("history.recent20.ms@200k_history", performance.now() - t0, "ms");
    if (recent.length !== 20) throw new Error(`history listed ${recent.length} bundles, expected 20`);
    await writer.close();
    open.length = 0;

    gc();
    t0 = performance.now();
    const offline = await openTestStore(storeDir, { peerId: peerA });
    const listed = (await offline.history({ limit: 20 })).length;
    await offline.close();
    report("history.recent20.ms@200k_history.no_daemon", performance.now() - t0, "ms");
    if (listed !== 20) throw new Error(`history without a daemon listed ${listed} bundles, expected 20`);

    t0 = performance.now();
    const source = await openTestStore(storeDir, { peerId: peerA });
    source.queryIds("table == 'lighting_fixtures' AND unit_number == ?", ["U7"]);
    report("store.cold_start.ms@200k_history", performance.now() - t0, "ms");
    const key = generateWorkspaceKey();
    const serving = await createPeerNode({ stateDir: stateA, listen: LOOPBACK, workspaceKey: key, store: source, log: () => undefined });
    open.push({ node: serving, store: source });
    const sourceBytes = rss() - rssAtStart;

    fs.mkdirSync(stateB, { recursive: true });
    const rssBeforeJoin = rss();
    const joiner = await openTestStore(path.join(stateB, "store"), { peerId: await loadOrCreatePeerId(stateB) });
    const joining = await createPeerNode({ stateDir: stateB, listen: LOOPBACK, workspaceKey: key, store: joiner, log: () => undefined });
    open.push({ node: joining, store: joiner });
    const gap = watchEventLoopGap();
    let maxGapMs = 0;
    t0 = performance.now();
    try {
      await joining.connect(serving.addresses()[0]);
      const deadline = Date.now() + 900_000;
      while (sortedHeads(joiner) !== sortedHeads(source)) {
        if (Date.now() > deadline) throw new Error("bench timed out waiting for the joiner to hold the history");
        await new Promise((r) => setTimeout(r, 2));
      }
    } finally {
      maxGapMs = gap.stop();
    }
    report("sync.join_200k_history.ms", performance.now() - t0, "ms");
    report("sync.join.max_event_loop_gap.ms", maxGapMs, "ms");
    const joinerBytes = rss() - rssBeforeJoin;
    report("sync.join.source_rss.mb", sourceBytes / 2 ** 20, "MB");
    report("sync.join.joiner_rss_growth.mb", joinerBytes / 2 ** 20, "MB");
    report("sync.join.rss_vs_source", joinerBytes / Math.max(2 ** 20, sourceBytes), "ratio");
  } finally {
    for (const p of open.reverse()) {
      await p.node?.stop();
      await p.store?.close();
    }
    fs.rmSync(root, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  await run((name, value, unit) => console.log(JSON.stringify({ name, value, unit })));
}
