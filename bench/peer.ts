import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { generateKeyPair } from "@libp2p/crypto/keys";
import type { Libp2p } from "@libp2p/interface";
import { multiaddr } from "@multiformats/multiaddr";
import { createPeerNode, createTransport, generateWorkspaceKey } from "../daemon/peer/index.ts";
import { MemorySyncDocument } from "../tests/helpers/memory-sync-document.ts";

const SAMPLES = 300;
const WARMUP = 20;
const LOOPBACK = ["/ip4/127.0.0.1/tcp/0"];
const ECHO_PROTOCOL = "/openprod/bench-echo/1.0.0";

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

/** Sync latency: one put on A until the value is readable on B, over the real node and protocol. */
async function syncLatencies(key: Uint8Array, dirs: string[]): Promise<number[]> {
  const docA = new MemorySyncDocument("bench");
  const docB = new MemorySyncDocument("bench");
  const quiet = (): void => undefined;
  const mk = (doc: MemorySyncDocument) => {
    const stateDir = fs.mkdtempSync(path.join(os.tmpdir(), "openprod-bench-peer-"));
    dirs.push(stateDir);
    return createPeerNode({ stateDir, listen: LOOPBACK, workspaceKey: key, document: doc, log: quiet });
  };
  const a = await mk(docA);
  const b = await mk(docB);
  try {
    await b.connect(a.addresses()[0]);
    const samples: number[] = [];
    for (let i = 0; i < SAMPLES + WARMUP; i++) {
      const value = `v${i}`;
      const arrived = new Promise<void>((resolve) => {
        const off = docB.onChange(() => {
          if (docB.get("cue") === value) {
            off();
            resolve();
          }
        });
      });
      const t0 = performance.now();
      docA.put("cue", value);
      await arrived;
      if (i >= WARMUP) samples.push(performance.now() - t0);
    }
    return samples;
  } finally {
    await b.stop();
    await a.stop();
  }
}

/** Raw round trip of a small message over the same libp2p stack (TCP + pnet + Noise + Yamux). */
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

export async function run(report: (name: string, value: number, unit: string) => void): Promise<void> {
  const key = generateWorkspaceKey();
  const dirs: string[] = [];
  try {
    const sync = (await syncLatencies(key, dirs)).sort((x, y) => x - y);
    const echo = (await echoLatencies(key)).sort((x, y) => x - y);
    const syncP50 = percentile(sync, 50);
    const echoP50 = percentile(echo, 50);
    report("sync.latency.ms.p50", syncP50, "ms");
    report("sync.latency.ms.p99", percentile(sync, 99), "ms");
    report("sync.raw_libp2p_echo.ms.p50", echoP50, "ms");
    report("sync.overhead_vs_raw_libp2p", syncP50 / echoP50, "ratio");
  } finally {
    for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
  }
}

// Run directly: `npx tsx bench/peer.ts`
if (import.meta.url === `file://${process.argv[1]}`) {
  await run((name, value, unit) => console.log(JSON.stringify({ name, value: Number(value.toFixed(3)), unit })));
}
