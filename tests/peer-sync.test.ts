import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { generateKeyPair } from "@libp2p/crypto/keys";
import type { Libp2p, Stream } from "@libp2p/interface";
import { multiaddr } from "@multiformats/multiaddr";
import { afterEach, describe, expect, it } from "vitest";
import {
  createPeerNode,
  createTransport,
  encodeFrame,
  FrameKind,
  generateWorkspaceKey,
  parseWorkspaceKey,
  readWorkspaceKey,
  SYNC_PROTOCOL_ID,
  writeWorkspaceKey,
} from "../daemon/peer/index.ts";
import type { LogLevel, PeerNode, PeerNodeOptions, SyncErrorEvent } from "../daemon/peer/index.ts";
import { MemorySyncDocument } from "./helpers/memory-sync-document.ts";

interface LogLine {
  level: LogLevel;
  msg: string;
  fields: Record<string, unknown>;
}

interface TestPeer {
  node: PeerNode;
  doc: MemorySyncDocument;
  logs: LogLine[];
  errors: SyncErrorEvent[];
  stateDir: string;
}

const LOOPBACK = ["/ip4/127.0.0.1/tcp/0"];
const KEY = generateWorkspaceKey();
const cleanups: Array<() => Promise<void> | void> = [];

afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()?.();
});

function tempDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "openprod-peer-"));
  cleanups.push(() => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

async function peer(
  doc: MemorySyncDocument,
  opts: Partial<PeerNodeOptions> = {},
  stateDir = tempDir(),
): Promise<TestPeer> {
  const logs: LogLine[] = [];
  const errors: SyncErrorEvent[] = [];
  const node = await createPeerNode({
    stateDir,
    listen: LOOPBACK,
    workspaceKey: KEY,
    document: doc,
    log: (level, msg, fields) => logs.push({ level, msg, fields }),
    backoff: { initialMs: 50, maxMs: 400 },
    connectTimeoutMs: 5000,
    ...opts,
  });
  node.on("sync:error", (e) => errors.push(e));
  cleanups.push(() => node.stop());
  return { node, doc, logs, errors, stateDir };
}

async function eventually(what: string, check: () => boolean, timeoutMs = 8000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for: ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

function converged(...docs: MemorySyncDocument[]): boolean {
  const first = JSON.stringify(docs[0].toJSON());
  const heads = docs[0].heads().sort().join();
  return docs.every((d) => JSON.stringify(d.toJSON()) === first && d.heads().sort().join() === heads);
}

/** A bare libp2p node with the same stack and key, used to speak bytes that a real peer never would. */
async function rawPeer(): Promise<Libp2p> {
  const libp2p = await createTransport({
    privateKey: await generateKeyPair("Ed25519"),
    listen: LOOPBACK,
    workspaceKey: KEY,
    log: () => undefined,
  });
  cleanups.push(() => libp2p.stop());
  return libp2p;
}

async function rawStream(target: PeerNode): Promise<Stream> {
  const attacker = await rawPeer();
  return attacker.dialProtocol(multiaddr(target.addresses()[0]), SYNC_PROTOCOL_ID);
}

function hello(workspaceId: string, peerId: string, protocol = 1): Uint8Array {
  return encodeFrame(FrameKind.Hello, new TextEncoder().encode(JSON.stringify({ protocol, workspaceId, peerId })));
}

describe("edits made on any peer reach every peer", () => {
  it("two peers converge on edits made on both sides", async () => {
    const a = await peer(new MemorySyncDocument("show-1"));
    const b = await peer(new MemorySyncDocument("show-1"));
    a.doc.put("cue-1", "GO");
    await b.node.connect(a.node.addresses()[0]);
    expect(b.node.peers().map((p) => p.peerId)).toEqual([a.node.peerId]);
    await eventually("A sees B", () => a.node.peers().length === 1);
    b.doc.put("cue-2", "standby");
    a.doc.put("cue-3", "hold");
    await eventually("A and B converge", () => converged(a.doc, b.doc) && b.doc.get("cue-3") === "hold");
    expect(a.doc.toJSON()).toEqual({ "cue-1": "GO", "cue-2": "standby", "cue-3": "hold" });
    expect(a.doc.maxConcurrentSessionsPerPeer).toBe(1);
    // Sync lag as the console shows it: once converged, nothing waits to be sent, and the last exchange is known.
    await eventually("no lag on either side", () => [...a.node.peers(), ...b.node.peers()].every((p) => p.behindMs === 0));
    for (const p of [...a.node.peers(), ...b.node.peers()]) expect(p.lastSyncAt).toBeGreaterThanOrEqual(p.since);
  });

  it("three peers in a line converge, and a late joiner receives everything", async () => {
    const a = await peer(new MemorySyncDocument("show-1"));
    const b = await peer(new MemorySyncDocument("show-1"), {});
    const c = await peer(new MemorySyncDocument("show-1"));
    await b.node.connect(a.node.addresses()[0]);
    await c.node.connect(b.node.addresses()[0]);
    for (let i = 0; i < 20; i++) [a, b, c][i % 3].doc.put(`k${i}`, i);
    await eventually("A, B, C converge", () => converged(a.doc, b.doc, c.doc) && Object.keys(a.doc.toJSON()).length === 20);

    const late = await peer(new MemorySyncDocument("show-1"));
    await late.node.connect(c.node.addresses()[0]);
    await eventually("late joiner has all 20 fields", () => converged(a.doc, late.doc));
    expect(Object.keys(late.doc.toJSON())).toHaveLength(20);
  });
});

describe("a partitioned peer catches up when the network heals, nothing lost", () => {
  it("stopping one node, editing on both sides and starting it again converges", async () => {
    const a = await peer(new MemorySyncDocument("show-1"));
    const b = await peer(new MemorySyncDocument("show-1"), { connect: [] });
    await b.node.connect(a.node.addresses()[0]);
    a.doc.put("before", 1);
    await eventually("initial sync", () => converged(a.doc, b.doc) && b.doc.get("before") === 1);

    const downs: string[] = [];
    a.node.on("peer:down", (e) => downs.push(e.peerId));
    await b.node.stop();
    await eventually("A notices B left", () => downs.includes(b.node.peerId) && a.node.peers().length === 0);

    a.doc.put("during-a", "lighting");
    b.doc.put("during-b", "sound");
    a.doc.put("clash", "from A");
    b.doc.put("clash", "from B");

    await b.node.start();
    await eventually("healed and converged", () => converged(a.doc, b.doc) && a.doc.get("during-b") === "sound");
    expect(b.doc.get("during-a")).toBe("lighting");
    expect(a.doc.get("clash")).toBe(b.doc.get("clash"));
  });

  it("a static peer that restarts is redialled with backoff (the listener goes away and comes back)", async () => {
    const a = await peer(new MemorySyncDocument("show-1"));
    const b = await peer(new MemorySyncDocument("show-1"), { connect: [a.node.addresses()[0]] });
    await eventually("B dials its static peer A", () => b.node.peers().length === 1);
    await a.node.stop();
    b.doc.put("while-a-away", "x");
    await new Promise((r) => setTimeout(r, 300)); // a few failed redials
    await a.node.start();
    await eventually("A receives B's edit after restart", () => a.doc.get("while-a-away") === "x");
    expect(b.logs.some((l) => l.msg.includes("unreachable"))).toBe(true);
  });
});

describe("after a reconnect only the missing changes are sent", () => {
  it("persisted sync state keeps the catch-up small", async () => {
    const a = await peer(new MemorySyncDocument("show-1"));
    const bDoc = new MemorySyncDocument("show-1");
    let b = await peer(bDoc);
    // Random labels, so Automerge's compression cannot make the full sync small.
    for (let i = 0; i < 300; i++) a.doc.putMany({ [`cue-${i}`]: Buffer.from(crypto.getRandomValues(new Uint8Array(48))).toString("hex") });
    await b.node.connect(a.node.addresses()[0]);
    await eventually("full sync", () => converged(a.doc, bDoc));
    const fullBytes = a.node.peers()[0].syncBytesOut + a.node.peers()[0].syncBytesIn;

    await b.node.stop();
    await eventually("A sees B gone", () => a.node.peers().length === 0);
    a.doc.put("new-cue", "one more");
    b = await peer(bDoc, {}, b.stateDir); // same identity, same persisted sync state
    await b.node.connect(a.node.addresses()[0]);
    await eventually("catch-up", () => converged(a.doc, bDoc));
    const info = a.node.peers()[0];
    const catchUpBytes = info.syncBytesOut + info.syncBytesIn;
    expect(fullBytes).toBeGreaterThan(10_000);
    expect(catchUpBytes).toBeLessThan(fullBytes / 20);

    // Control: the same catch-up with the sync states forgotten costs more (a bloom filter over all history).
    await b.node.stop();
    await eventually("A sees B gone again", () => a.node.peers().length === 0);
    a.doc.put("another-cue", "two more");
    a.doc.savedSyncStates.clear();
    bDoc.savedSyncStates.clear();
    b = await peer(bDoc, {}, b.stateDir);
    await b.node.connect(a.node.addresses()[0]);
    await eventually("catch-up without saved state", () => converged(a.doc, bDoc));
    const forgotten = a.node.peers()[0];
    expect(forgotten.syncBytesOut + forgotten.syncBytesIn).toBeGreaterThan(catchUpBytes);
  });
});

describe("strangers are kept out", () => {
  it("a peer without the workspace key cannot connect at all", async () => {
    const a = await peer(new MemorySyncDocument("show-1"));
    const stranger = await peer(new MemorySyncDocument("show-1"), { workspaceKey: generateWorkspaceKey(), connectTimeoutMs: 1500 });
    await expect(stranger.node.connect(a.node.addresses()[0])).rejects.toMatchObject({ code: "NetworkError" });
    expect(a.node.peers()).toHaveLength(0);
    a.doc.put("secret", "cue list");
    await new Promise((r) => setTimeout(r, 100));
    expect(stranger.doc.get("secret")).toBeUndefined();
  });

  it("a peer not on the allow-list is disconnected, and one on it syncs", async () => {
    const friendDir = tempDir();
    const friend = await peer(new MemorySyncDocument("show-1"), {}, friendDir);
    const a = await peer(new MemorySyncDocument("show-1"), { allowPeers: [friend.node.peerId] });
    const other = await peer(new MemorySyncDocument("show-1"));
    await expect(other.node.connect(a.node.addresses()[0])).rejects.toBeTruthy();
    expect(a.logs.some((l) => l.msg.includes(`peer ${other.node.peerId}`) && l.msg.includes("allow-list"))).toBe(true);
    await friend.node.connect(a.node.addresses()[0]);
    await eventually("A syncs with its friend", () => a.node.peers().length === 1);
    expect(a.node.peers().map((p) => p.peerId)).toEqual([friend.node.peerId]);
  });

  it("a peer holding another workspace is refused with the reason logged on both sides", async () => {
    const a = await peer(new MemorySyncDocument("show-1"));
    const b = await peer(new MemorySyncDocument("rehearsal-2"));
    await expect(b.node.connect(a.node.addresses()[0])).rejects.toThrow(/workspace/);
    await eventually("both sides logged the mismatch", () =>
      [a, b].every((p) => p.logs.some((l) => l.level === "warn" && l.msg.includes('"rehearsal-2"') && l.msg.includes('"show-1"'))),
    );
    expect(a.errors[0]).toMatchObject({ code: "WorkspaceMismatch", peerId: b.node.peerId });
    expect(b.errors.some((e) => e.code === "WorkspaceMismatch")).toBe(true);
    expect(a.node.peers()).toHaveLength(0);
  });
});

describe("a misbehaving peer is dropped with a logged reason; the document is untouched and the node keeps syncing", () => {
  // The stall timeout is short so the stall test is quick; tests of other faults raise it so a
  // loaded machine cannot turn their fault into a stall.
  async function victim(frameTimeoutMs = 5_000): Promise<TestPeer> {
    const a = await peer(new MemorySyncDocument("show-1"), { limits: { maxFrameBytes: 1024 * 1024, frameTimeoutMs } });
    a.doc.put("cue-1", "GO");
    return a;
  }

  async function stillHealthy(a: TestPeer, headsBefore: string[]): Promise<void> {
    expect(a.doc.heads()).toEqual(headsBefore);
    expect(a.doc.maxConcurrentSessionsPerPeer).toBeLessThanOrEqual(1);
    const good = await peer(new MemorySyncDocument("show-1"));
    await good.node.connect(a.node.addresses()[0]);
    await eventually("a well-behaved peer still syncs", () => good.doc.get("cue-1") === "GO");
  }

  async function droppedWith(a: TestPeer, stream: Stream, pattern: RegExp): Promise<void> {
    await eventually(`log matching ${pattern}`, () => a.logs.some((l) => l.level === "warn" && pattern.test(l.msg)), 5000);
    await eventually("stream closed", () => stream.status !== "open", 5000);
  }

  it("garbage bytes", async () => {
    const a = await victim();
    const heads = a.doc.heads();
    const stream = await rawStream(a.node);
    stream.send(new Uint8Array([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x13, 0x37]));
    await droppedWith(a, stream, /length prefix longer than/);
    await stillHealthy(a, heads);
  });

  it("a hello claiming another peer's id, and a sync message that is not Automerge", async () => {
    const a = await victim();
    const heads = a.doc.heads();
    const liar = await rawStream(a.node);
    liar.send(hello("show-1", "someone-else"));
    await droppedWith(a, liar, /hello claims someone-else/);
    const stream = await rawStreamWithHello(a);
    stream.send(encodeFrame(FrameKind.Sync, new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8])));
    await droppedWith(a, stream, /undecodable sync message/);
    await stillHealthy(a, heads);
  });

  it("a truncated frame", async () => {
    const a = await victim();
    const heads = a.doc.heads();
    const stream = await rawStream(a.node);
    const frame = hello("show-1", "x");
    stream.send(frame.subarray(0, 10));
    await stream.close();
    await droppedWith(a, stream, /truncated frame .* stream ended after 9 of/);
    await stillHealthy(a, heads);
  });

  it("an oversized frame", async () => {
    const a = await victim();
    const heads = a.doc.heads();
    const stream = await rawStream(a.node);
    // Only the header: the victim must refuse on the declared length, before buffering anything.
    const header = encodeFrame(FrameKind.Sync, new Uint8Array(2 * 1024 * 1024)).subarray(0, 4);
    stream.send(header);
    await droppedWith(a, stream, /exceeds the limit of 1048576 bytes/);
    await stillHealthy(a, heads);
  });

  it("a peer that stalls mid-frame", async () => {
    const a = await victim(300);
    const heads = a.doc.heads();
    const stream = await rawStream(a.node);
    const frame = hello("show-1", "x");
    stream.send(frame.subarray(0, 5));
    await droppedWith(a, stream, /stalled mid-frame for 300 ms \(4 of \d+ byte\(s\) received\)/);
    await stillHealthy(a, heads);
  });

  it("a peer speaking another protocol version", async () => {
    const a = await victim();
    const heads = a.doc.heads();
    const stream = await rawStream(a.node);
    const replies: Uint8Array[] = [];
    stream.addEventListener("message", (evt) => replies.push(evt.data.subarray()));
    stream.send(hello("show-1", "x", 2));
    await droppedWith(a, stream, /speaks sync protocol version 2, this peer speaks version 1/);
    // The refusal reached the wire so the other side can log it too.
    const received = new TextDecoder().decode(Buffer.concat(replies));
    expect(received).toContain("ProtocolMismatch");
    await stillHealthy(a, heads);
  });

  async function rawStreamWithHello(a: TestPeer): Promise<Stream> {
    const attacker = await rawPeer();
    const stream = await attacker.dialProtocol(multiaddr(a.node.addresses()[0]), SYNC_PROTOCOL_ID);
    stream.send(hello("show-1", attacker.peerId.toString()));
    return stream;
  }
});

describe("the workspace key and the peer identity live in files a technician can manage", () => {
  it("a generated key round-trips through its file and a malformed one names the file", () => {
    const dir = tempDir();
    const file = path.join(dir, "workspace.key");
    const key = generateWorkspaceKey();
    expect(key.byteLength).toBe(95);
    writeWorkspaceKey(file, key);
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
    expect(readWorkspaceKey(file)).toEqual(key);
    fs.writeFileSync(file, "/key/swarm/psk/1.0.0/\n/base16/\nnot-hex");
    expect(() => readWorkspaceKey(file)).toThrow(/workspace\.key: line 3 must be 64 hex digits/);
    expect(() => parseWorkspaceKey(new TextEncoder().encode("hello"))).toThrow(/not a workspace key/);
  });

  it("the peer id survives a restart", async () => {
    const dir = tempDir();
    const first = await peer(new MemorySyncDocument("show-1"), { start: false }, dir);
    const second = await peer(new MemorySyncDocument("show-1"), { start: false }, dir);
    expect(second.node.peerId).toBe(first.node.peerId);
  });
});
