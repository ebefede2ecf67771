import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { openPersistence } from "../daemon/crdt/persistence/index.ts";
import { InvalidOperation } from "../daemon/crdt/errors.ts";
import { changeBytes, changeHash, snapshotBytes } from "./fixtures/persistence-content.ts";

let root: string;
let dir: string;

beforeEach(() => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), "openprod-persistence-"));
  dir = path.join(root, ".openprod", "store");
});

afterEach(() => {
  fs.rmSync(root, { recursive: true, force: true });
});

function change(seq: number): { hash: string; bytes: Uint8Array } {
  return { hash: changeHash(seq), bytes: changeBytes(seq) };
}

/** Byte comparison without vitest's element-by-element diffing, which is slow on MB-sized arrays. */
function sameBytes(a: Uint8Array | undefined, b: Uint8Array): boolean {
  return a !== undefined && Buffer.compare(Buffer.from(a.buffer, a.byteOffset, a.byteLength), Buffer.from(b.buffer, b.byteOffset, b.byteLength)) === 0;
}

async function collect(iterable: AsyncIterable<[string, Uint8Array]>): Promise<[string, string][]> {
  const out: [string, string][] = [];
  for await (const [k, v] of iterable) out.push([k, Buffer.from(v).toString("utf8")]);
  return out;
}

describe("every appended bundle is there after a restart, in order, byte for byte", () => {
  it("returns the same changes and heads after close and reopen", async () => {
    const p = await openPersistence({ dir, fsync: false });
    expect(await p.appendChanges([change(1)], [changeHash(1)])).toBe(1);
    expect(await p.appendChanges([change(2), change(3)], [changeHash(2), changeHash(3)])).toBe(3);
    expect(await p.appendChanges([change(4)], [changeHash(4)])).toBe(4);
    await p.close();

    const reopened = await openPersistence({ dir, fsync: false });
    const state = await reopened.load();
    expect(state.damaged).toEqual([]);
    expect(state.snapshot).toBeNull();
    expect(state.recordedHeads).toEqual([changeHash(4)]);
    expect(state.changes.map((c) => c.seq)).toEqual([1, 2, 3, 4]);
    for (const c of state.changes) {
      expect(c.hash).toBe(changeHash(c.seq));
      expect(c.bytes).toEqual(changeBytes(c.seq));
    }
    // Sequence numbers continue where they stopped, never reused.
    expect(await reopened.appendChanges([change(5)], [changeHash(5)])).toBe(5);
    await reopened.close();
  });

  it("a fresh store loads empty", async () => {
    const p = await openPersistence({ dir, fsync: true });
    expect(await p.load()).toEqual({ snapshot: null, changes: [], recordedHeads: null, damaged: [], acknowledged: null });
    await p.close();
  });

  it("the caller may reuse its change buffer as soon as appendChanges returns", async () => {
    const p = await openPersistence({ dir, fsync: false });
    const bytes = new Uint8Array([1, 2, 3]);
    const done = p.appendChanges([{ hash: "aa", bytes }], ["aa"]);
    bytes.fill(9);
    await done;
    const state = await p.load();
    expect(state.changes[0].bytes).toEqual(new Uint8Array([1, 2, 3]));
    await p.close();
  });
});

describe("side records are stored with the bundle and read back by key and prefix", () => {
  it("round trips bytes and JSON, lists by prefix in key order, deletes", async () => {
    const p = await openPersistence({ dir, fsync: false });
    const sync = p.records("sync");
    await sync.put("peer-b", Buffer.from("state-b"));
    await sync.putJson("peer-a", { heads: ["x"], n: 1 });
    await p.appendChanges([change(1)], [changeHash(1)], [
      { namespace: "runs", key: "01J0001", value: Buffer.from("run 1") },
      { namespace: "runs", key: "01J0002", value: Buffer.from("run 2") },
      { namespace: "overlay", key: "s1", value: Buffer.from("o") },
    ]);
    await p.close();

    const reopened = await openPersistence({ dir, fsync: false });
    const sync2 = reopened.records("sync");
    expect(Buffer.from((await sync2.get("peer-b"))!).toString()).toBe("state-b");
    expect(await sync2.getJson("peer-a")).toEqual({ heads: ["x"], n: 1 });
    expect(await sync2.get("peer-c")).toBeUndefined();
    expect(await sync2.getJson("peer-c")).toBeUndefined();
    expect(await collect(reopened.records("runs").list())).toEqual([
      ["01J0001", "run 1"],
      ["01J0002", "run 2"],
    ]);
    // Namespaces do not leak into each other.
    expect(await collect(reopened.records("overlay").list())).toEqual([["s1", "o"]]);

    await reopened.writeRecords([
      { namespace: "runs", key: "01J0001", value: null },
      { namespace: "runs", key: "01J0003", value: Buffer.from("run 3") },
    ]);
    expect(await collect(reopened.records("runs").list())).toEqual([
      ["01J0002", "run 2"],
      ["01J0003", "run 3"],
    ]);
    await reopened.records("runs").del("01J0002");
    expect(await reopened.records("runs").get("01J0002")).toBeUndefined();
    await reopened.close();
  });

  it("a prefix matches every key that starts with it, whatever characters follow", async () => {
    const p = await openPersistence({ dir, fsync: false });
    const space = p.records("names");
    for (const key of ["a", "a\u{1F600}", "a\uFFFF", "ab", "b", "\u00e9"]) await space.put(key, Buffer.from(key));
    expect((await collect(space.list("a"))).map(([k]) => k)).toEqual(["a", "ab", "a\uFFFF", "a\u{1F600}"]);
    expect((await collect(space.list())).length).toBe(6);
    expect(await collect(space.list("z"))).toEqual([]);
    await p.close();
  });

  it("a namespace with a NUL character is refused", async () => {
    const p = await openPersistence({ dir, fsync: false });
    expect(() => p.records("bad\u0000ns")).toThrow(InvalidOperation);
    await expect(p.writeRecords([{ namespace: "", key: "k", value: null }])).rejects.toThrow(InvalidOperation);
    await p.close();
  });
});

describe("compaction replaces old changes by a full save without losing anything", () => {
  it("after compact the covered changes are gone, the snapshot is there, and later appends still load", async () => {
    const p = await openPersistence({ dir, fsync: false });
    for (let seq = 1; seq <= 10; seq++) await p.appendChanges([change(seq)], [changeHash(seq)]);
    await p.compact(snapshotBytes(6), [changeHash(6)], 6);
    let state = await p.load();
    expect(state.snapshot?.uptoSeq).toBe(6);
    expect(state.snapshot?.heads).toEqual([changeHash(6)]);
    expect(sameBytes(state.snapshot?.bytes, snapshotBytes(6))).toBe(true);
    expect(state.changes.map((c) => c.seq)).toEqual([7, 8, 9, 10]);
    // Appends past the snapshot keep their own heads current.
    expect(state.recordedHeads).toEqual([changeHash(10)]);

    expect(await p.appendChanges([change(11)], [changeHash(11)])).toBe(11);
    await p.compact(snapshotBytes(11), [changeHash(11)], 11);
    await p.close();

    const reopened = await openPersistence({ dir, fsync: false });
    state = await reopened.load();
    expect(state.damaged).toEqual([]);
    expect(state.snapshot?.uptoSeq).toBe(11);
    expect(sameBytes(state.snapshot?.bytes, snapshotBytes(11))).toBe(true);
    expect(state.changes).toEqual([]);
    expect(state.recordedHeads).toEqual([changeHash(11)]);
    // With every change compacted away, numbering still continues after the snapshot.
    expect(await reopened.appendChanges([change(12)], [changeHash(12)])).toBe(12);
    expect((await reopened.load()).changes.map((c) => c.seq)).toEqual([12]);
    await reopened.close();
  });

  it("a snapshot of several MB round trips", async () => {
    const p = await openPersistence({ dir, fsync: true });
    await p.appendChanges([change(1)], [changeHash(1)]);
    const big = snapshotBytes(1, 6 * 1024 * 1024);
    await p.compact(big, [changeHash(1)], 1);
    await p.close();
    const reopened = await openPersistence({ dir, fsync: true });
    const state = await reopened.load();
    expect(state.snapshot?.bytes.byteLength).toBe(big.byteLength);
    expect(sameBytes(state.snapshot?.bytes, big)).toBe(true);
    await reopened.close();
  });

  it("compacting past the last appended seq is refused", async () => {
    const p = await openPersistence({ dir, fsync: false });
    await p.appendChanges([change(1)], [changeHash(1)]);
    await expect(p.compact(snapshotBytes(2), [changeHash(2)], 2)).rejects.toThrow(/uptoSeq 2 .*1\.\.1/);
    await p.close();
  });
});
