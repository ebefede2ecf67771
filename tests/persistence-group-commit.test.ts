import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { openPersistence } from "../daemon/crdt/persistence/index.ts";
import { changeBytes, changeHash, snapshotBytes } from "./fixtures/persistence-content.ts";

let dir: string;

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "openprod-persistence-gc-"));
});

afterEach(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

describe("with fsync, concurrent writers share syncs and are acknowledged in call order", () => {
  it("16 concurrent appends all land, in order, in fewer synced batches than appends", async () => {
    const p = await openPersistence({ dir, fsync: true });
    const resolved: number[] = [];
    const seqs = await Promise.all(
      Array.from({ length: 16 }, (_, i) =>
        p
          .appendChanges([{ hash: changeHash(i + 1), bytes: changeBytes(i + 1) }], [changeHash(i + 1)], [
            { namespace: "writer", key: String(i).padStart(2, "0"), value: changeBytes(i + 1) },
          ])
          .then((seq) => {
            resolved.push(seq);
            return seq;
          }),
      ),
    );
    expect(seqs).toEqual(Array.from({ length: 16 }, (_, i) => i + 1));
    expect(resolved).toEqual(seqs);
    const stats = p.stats();
    expect(stats.commits).toBe(16);
    expect(stats.syncedBatches).toBe(stats.batches);
    expect(stats.syncedBatches).toBeLessThan(16);
    await p.close();

    const reopened = await openPersistence({ dir, fsync: true });
    const state = await reopened.load();
    expect(state.changes.map((c) => c.seq)).toEqual(seqs);
    expect(state.changes.every((c) => c.hash === changeHash(c.seq))).toBe(true);
    // The heads record is the last append's, not whichever batch happened to finish last.
    expect(state.recordedHeads).toEqual([changeHash(16)]);
    let sideRecords = 0;
    for await (const _ of reopened.records("writer").list()) sideRecords++;
    expect(sideRecords).toBe(16);
    await reopened.close();
  });

  it("appends, record writes and a compaction issued together apply in call order", async () => {
    const p = await openPersistence({ dir, fsync: true });
    const order: string[] = [];
    const track = <T>(name: string, promise: Promise<T>): Promise<T> =>
      promise.then((v) => {
        order.push(name);
        return v;
      });
    await Promise.all([
      track("a1", p.appendChanges([{ hash: changeHash(1), bytes: changeBytes(1) }], [changeHash(1)])),
      track("a2", p.appendChanges([{ hash: changeHash(2), bytes: changeBytes(2) }], [changeHash(2)])),
      track("r", p.records("hlc").putJson("last", "t2")),
      track("c", p.compact(snapshotBytes(2), [changeHash(2)], 2)),
      track("a3", p.appendChanges([{ hash: changeHash(3), bytes: changeBytes(3) }], [changeHash(3)])),
      track("d", p.records("hlc").del("last")),
    ]);
    expect(order).toEqual(["a1", "a2", "r", "c", "a3", "d"]);
    const state = await p.load();
    expect(state.snapshot?.uptoSeq).toBe(2);
    expect(state.changes.map((c) => c.seq)).toEqual([3]);
    expect(state.recordedHeads).toEqual([changeHash(3)]);
    expect(await p.records("hlc").get("last")).toBeUndefined();
    await p.close();
  });

  it("close waits for writes already accepted, and later writes are refused", async () => {
    const p = await openPersistence({ dir, fsync: true });
    const pending = Promise.all(
      Array.from({ length: 8 }, (_, i) =>
        p.appendChanges([{ hash: changeHash(i + 1), bytes: changeBytes(i + 1) }], [changeHash(i + 1)]),
      ),
    );
    await p.close();
    expect(await pending).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    await expect(p.records("x").put("k", new Uint8Array([1]))).rejects.toThrow(/closed/);
    const reopened = await openPersistence({ dir, fsync: false });
    expect((await reopened.load()).changes.length).toBe(8);
    await reopened.close();
  });
});
