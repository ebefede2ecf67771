import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { createPeerNode, generateWorkspaceKey } from "../daemon/peer/index.ts";
import type { PeerNode } from "../daemon/peer/index.ts";
import { MemorySyncDocument } from "./helpers/memory-sync-document.ts";

const KEY = generateWorkspaceKey();
const cleanups: Array<() => Promise<void> | void> = [];

afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()?.();
});

async function peer(doc: MemorySyncDocument): Promise<PeerNode> {
  const stateDir = fs.mkdtempSync(path.join(os.tmpdir(), "openprod-mesh-"));
  const node = await createPeerNode({
    stateDir,
    listen: ["/ip4/127.0.0.1/tcp/0"],
    workspaceKey: KEY,
    document: doc,
    log: () => undefined,
    backoff: { initialMs: 50, maxMs: 400 },
    connectTimeoutMs: 5000,
  });
  cleanups.push(() => fs.rmSync(stateDir, { recursive: true, force: true }));
  cleanups.push(() => node.stop());
  return node;
}

function portOf(addr: string): number {
  const m = /\/tcp\/(\d+)/.exec(addr);
  if (!m) throw new Error(`no TCP port in ${addr}`);
  return Number(m[1]);
}

/** Established loopback TCP connections with one end on one of `ports`, each counted once, as the (Linux) kernel lists them. */
function tcpConnections(ports: ReadonlySet<number>): number {
  const pairs = new Set<string>();
  for (const line of fs.readFileSync("/proc/net/tcp", "utf8").split("\n").slice(1)) {
    const [, local, remote, state] = line.trim().split(/\s+/);
    if (state !== "01") continue; // ESTABLISHED
    const lp = Number.parseInt(local.split(":")[1], 16);
    const rp = Number.parseInt(remote.split(":")[1], 16);
    if (ports.has(lp) || ports.has(rp)) pairs.add([local, remote].sort().join(" "));
  }
  return pairs.size;
}

async function eventually(what: string, check: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for: ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe("a full mesh keeps one TCP connection per pair of peers", () => {
  it("three peers that each list the other two, all dialling at once", async () => {
    const docs = [0, 1, 2].map(() => new MemorySyncDocument("show-1"));
    const nodes = await Promise.all(docs.map((d) => peer(d)));
    const ports = new Set(nodes.map((n) => portOf(n.addresses()[0])));
    // Every peer dials every other at the same moment: each pair starts with two connections.
    await Promise.all(nodes.flatMap((n) => nodes.filter((o) => o !== n).map((o) => n.connect(o.addresses()[0]))));
    await eventually("every peer syncs with the two others", () => nodes.every((n) => n.peers().length === 2));
    await eventually("one connection per pair", () => tcpConnections(ports) === 3);
    // And it stays that way: no redial of the retired connections, and the mesh still syncs.
    await new Promise((r) => setTimeout(r, 1500));
    expect(tcpConnections(ports)).toBe(3);
    expect(nodes.every((n) => n.peers().length === 2)).toBe(true);
    docs[0].put("cue-1", "GO");
    docs[2].put("cue-2", "hold");
    await eventually("the mesh converges", () => docs.every((d) => d.get("cue-1") === "GO" && d.get("cue-2") === "hold"));
  });
});
