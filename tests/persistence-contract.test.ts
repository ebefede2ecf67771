/**
 * The persistence contract (daemon/crdt/persistence/contract.ts), one suite run against every
 * backend, as automerge-repo runs one suite against each of its storage adapters. A backend that
 * passes can carry a WorkspaceStore. LevelDB-only behaviour (checksums, crashes, the acknowledged
 * record) is tested in the other persistence-*.test.ts files.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { levelPersistence, memoryPersistence } from "../daemon/crdt/persistence/index.ts";
import type { OpenPersistence, WorkspacePersistence } from "../daemon/crdt/persistence/index.ts";
import { InvalidOperation, StorageError } from "../daemon/crdt/errors.ts";
import { WorkspaceStore } from "../daemon/crdt/store.ts";
import { changeBytes, changeHash, snapshotBytes } from "./fixtures/persistence-content.ts";
import { exampleSchema, USER } from "./helpers/store-fixture.ts";

interface Backend {
  /** Opens the same backend each time it is called (a reopen sees what was acknowledged). */
  open: OpenPersistence;
  teardown: () => void;
}

const backends: { name: string; setup: () => Backend }[] = [
  {
    name: "LevelDB",
    setup: () => {
      const root = fs.mkdtempSync(path.join(os.tmpdir(), "openprod-contract-"));
      return { open: levelPersistence({ dir: path.join(root, "store") }), teardown: () => fs.rmSync(root, { recursive: true, force: true }) };
    },
  },
  { name: "memory", setup: () => ({ open: memoryPersistence(), teardown: () => undefined }) },
];

function change(seq: number): { hash: string; bytes: Uint8Array } {
  return { hash: changeHash(seq), bytes: changeBytes(seq) };
}

function text(bytes: Uint8Array | undefined): string | undefined {
  return bytes === undefined ? undefined : Buffer.from(bytes).toString("utf8");
}

const utf8 = (s: string): Uint8Array => Buffer.from(s, "utf8");

async function listed(p: WorkspacePersistence, namespace: string, prefix?: string): Promise<[string, string | undefined][]> {
  const out: [string, string | undefined][] = [];
  for await (const [k, v] of p.records(namespace).list(prefix)) out.push([k, text(v)]);
  return out;
}

describe.each(backends)("the $name backend keeps the persistence contract", ({ setup }) => {
  let backend: Backend;
  let p: WorkspacePersistence;
  beforeEach(async () => {
    backend = setup();
    p = await backend.open();
  });
  afterEach(async () => {
    await p.close();
    backend.teardown();
  });
  const reopen = async (): Promise<WorkspacePersistence> => {
    await p.close();
    p = await backend.open();
    return p;
  };

  describe("a fresh store and what a reopen finds", () => {
    it("loads empty when nothing was written", async () => {
      const state = await p.load();
      expect(state.snapshot).toBeNull();
      expect(state.changes).toEqual([]);
      expect(state.recordedHeads).toBeNull();
      expect(state.damaged).toEqual([]);
    });

    it("gives back every acknowledged change after a reopen, in append order, byte for byte, and numbers on from there", async () => {
      expect(await p.appendChanges([change(1)], [changeHash(1)])).toBe(1);
      expect(await p.appendChanges([change(2), change(3)], [changeHash(2), changeHash(3)])).toBe(3);
      await reopen();
      const state = await p.load();
      expect(state.changes.map((c) => [c.seq, c.hash])).toEqual([1, 2, 3].map((s) => [s, changeHash(s)]));
      for (const c of state.changes) expect(Buffer.compare(Buffer.from(c.bytes), Buffer.from(changeBytes(c.seq)))).toBe(0);
      expect(state.recordedHeads).toEqual([changeHash(2), changeHash(3)]);
      expect(await p.appendChanges([change(4)], [changeHash(4)])).toBe(4);
    });

    it("is open once at a time: a second open while it is open is refused with StorageError", async () => {
      await expect(backend.open()).rejects.toBeInstanceOf(StorageError);
    });
  });

  describe("ordering: writes resolve, and apply, in call order", () => {
    it("16 concurrent appends get consecutive seqs and resolve in the order they were called", async () => {
      const resolved: number[] = [];
      const seqs = await Promise.all(
        Array.from({ length: 16 }, (_, i) => p.appendChanges([change(i + 1)], [changeHash(i + 1)]).then((seq) => (resolved.push(i), seq))),
      );
      expect(seqs).toEqual(Array.from({ length: 16 }, (_, i) => i + 1));
      expect(resolved).toEqual(Array.from({ length: 16 }, (_, i) => i));
      expect((await p.load()).recordedHeads).toEqual([changeHash(16)]);
      expect(p.stats().commits).toBe(16);
    });

    it("record writes, deletes and appends issued together land in call order", async () => {
      const space = p.records("cues");
      const writes = [space.put("k", utf8("1")), space.put("k", utf8("2")), space.del("k"), space.put("k", utf8("3")), p.appendChanges([change(1)], [changeHash(1)], [{ namespace: "cues", key: "k", value: utf8("4") }])];
      await Promise.all(writes);
      expect(text(await space.get("k"))).toBe("4");
      await reopen();
      expect(text(await p.records("cues").get("k"))).toBe("4");
    });
  });

  describe("buffers: the caller's bytes are its own again once a call returns", () => {
    it("mutating a change buffer after appendChanges, or a loaded one, changes nothing stored", async () => {
      const c = change(1);
      const before = Buffer.from(c.bytes);
      const pending = p.appendChanges([c], [c.hash]);
      c.bytes.fill(0);
      await pending;
      const loaded = (await p.load()).changes[0].bytes;
      loaded.fill(7);
      expect(Buffer.compare(Buffer.from((await p.load()).changes[0].bytes), before)).toBe(0);
    });

    it("mutating a record value after put, or after get, changes nothing stored", async () => {
      const value = utf8("abc");
      const put = p.records("n").put("k", value);
      value.fill(0);
      await put;
      (await p.records("n").get("k"))?.fill(0);
      expect(text(await p.records("n").get("k"))).toBe("abc");
    });
  });

  describe("atomic batches: a bundle and its side records land together or not at all", () => {
    it("side records written with an append are there with it after a reopen", async () => {
      await p.appendChanges([change(1)], [changeHash(1)], [
        { namespace: "sessions", key: "s1", value: null },
        { namespace: "overlays", key: "o1", value: utf8("committed") },
      ]);
      await reopen();
      expect((await p.load()).changes.map((c) => c.seq)).toEqual([1]);
      expect(text(await p.records("overlays").get("o1"))).toBe("committed");
    });

    it("an append with an invalid side record is refused whole: no change, no record, no gap in the seqs", async () => {
      const refused = p.appendChanges([change(1)], [changeHash(1)], [
        { namespace: "ok", key: "a", value: utf8("x") },
        { namespace: "", key: "b", value: utf8("y") },
      ]);
      await expect(refused).rejects.toBeInstanceOf(InvalidOperation);
      expect((await p.load()).changes).toEqual([]);
      expect(await p.records("ok").get("a")).toBeUndefined();
      expect(await p.appendChanges([change(1)], [changeHash(1)])).toBe(1);
    });

    it("a record batch with one invalid namespace writes none of it", async () => {
      await expect(
        p.writeRecords([
          { namespace: "ok", key: "a", value: utf8("x") },
          { namespace: "bad\u0000ns", key: "b", value: utf8("y") },
        ]),
      ).rejects.toBeInstanceOf(InvalidOperation);
      expect(await p.records("ok").get("a")).toBeUndefined();
    });
  });

  describe("range reads: a prefix lists its keys in UTF-8 byte order, within one namespace", () => {
    it("lists by prefix in byte order, keeps namespaces apart, and forgets deleted keys", async () => {
      // "\uffff" sorts before "😀" in UTF-8 (EF.. < F0..) but after it in UTF-16.
      const keys = ["b", "a/2", "a/1", "a\uffff", "a😀", "ab"];
      await p.writeRecords(keys.map((key) => ({ namespace: "runs", key, value: utf8(key) })));
      await p.writeRecords([{ namespace: "runs2", key: "a/3", value: utf8("other namespace") }]);
      expect((await listed(p, "runs")).map(([k]) => k)).toEqual(["a/1", "a/2", "ab", "a\uffff", "a😀", "b"]);
      expect(await listed(p, "runs", "a/")).toEqual([
        ["a/1", "a/1"],
        ["a/2", "a/2"],
      ]);
      expect(await listed(p, "runs", "zz")).toEqual([]);
      expect(await listed(p, "nothing-here")).toEqual([]);
      await p.records("runs").del("a/1");
      expect((await listed(p, "runs", "a/")).map(([k]) => k)).toEqual(["a/2"]);
      expect(await p.records("runs").get("a/1")).toBeUndefined();
    });

    it("lists a prefix backwards and bounded, and gives its keys alone", async () => {
      const keys = ["t/001", "t/002", "t/003", "t/004", "u/001"];
      await p.writeRecords(keys.map((key) => ({ namespace: "log", key, value: utf8(key) })));
      const newest: string[] = [];
      for await (const [k] of p.records("log").list("t/", { reverse: true, limit: 2 })) newest.push(k);
      expect(newest).toEqual(["t/004", "t/003"]);
      const all: string[] = [];
      for await (const [k] of p.records("log").list("", { reverse: true })) all.push(k);
      expect(all).toEqual([...keys].reverse());
      const bare: string[] = [];
      for await (const k of p.records("log").keys("t/")) bare.push(k);
      expect(bare).toEqual(keys.slice(0, 4));
    });
  });

  describe("compaction: a full save replaces the changes it covers", () => {
    it("drops the covered changes, keeps later ones, and a reopen loads snapshot plus the rest", async () => {
      for (let i = 1; i <= 3; i++) await p.appendChanges([change(i)], [changeHash(i)]);
      await p.compact(snapshotBytes(1000), [changeHash(2)], 2);
      await reopen();
      const state = await p.load();
      expect(state.snapshot?.uptoSeq).toBe(2);
      expect(state.snapshot?.heads).toEqual([changeHash(2)]);
      expect(Buffer.compare(Buffer.from(state.snapshot?.bytes ?? new Uint8Array()), Buffer.from(snapshotBytes(1000)))).toBe(0);
      expect(state.changes.map((c) => c.seq)).toEqual([3]);
      // The last append's heads stay current: the snapshot does not cover it.
      expect(state.recordedHeads).toEqual([changeHash(3)]);
      expect(await p.appendChanges([change(4)], [changeHash(4)])).toBe(4);
    });

    it("a compaction up to the last seq records the snapshot's heads", async () => {
      await p.appendChanges([change(1)], [changeHash(1)]);
      await p.compact(snapshotBytes(10), ["snap-head"], 1);
      const state = await p.load();
      expect(state.changes).toEqual([]);
      expect(state.recordedHeads).toEqual(["snap-head"]);
    });

    it("compacting past the last seq is refused with InvalidOperation naming the seqs", async () => {
      await p.appendChanges([change(1)], [changeHash(1)]);
      await expect(p.compact(snapshotBytes(10), [], 5)).rejects.toThrow(/uptoSeq 5 is not a seq of this store \(changes are numbered 1\.\.1\)/);
      await expect(p.compact(snapshotBytes(10), [], -1)).rejects.toBeInstanceOf(InvalidOperation);
    });
  });

  describe("failure behaviour: closed stores, invalid records", () => {
    it("close waits for writes already accepted; every write after close is refused and stores nothing", async () => {
      const accepted = p.appendChanges([change(1)], [changeHash(1)]);
      await p.close();
      await accepted;
      const where = p.location;
      for (const write of [
        () => p.appendChanges([change(2)], [changeHash(2)]),
        () => p.writeRecords([{ namespace: "n", key: "k", value: utf8("v") }]),
        () => p.records("n").put("k", utf8("v")),
        () => p.compact(snapshotBytes(10), [changeHash(1)], 1),
      ]) {
        const refused = write();
        await expect(refused).rejects.toBeInstanceOf(StorageError);
        await expect(refused).rejects.toThrow(`the workspace store at ${where} is closed`);
      }
      p = await backend.open();
      const state = await p.load();
      expect(state.changes.map((c) => c.seq)).toEqual([1]);
      expect(state.snapshot).toBeNull();
      expect(await p.records("n").get("k")).toBeUndefined();
    });

    it("a record that is not JSON is a StorageError naming its key and namespace when read as JSON", async () => {
      await p.records("runs").put("r1", utf8("{not json"));
      await expect(p.records("runs").getJson("r1")).rejects.toBeInstanceOf(StorageError);
      await expect(p.records("runs").getJson("r1")).rejects.toThrow(/side record "r1" in namespace "runs" .* is not valid JSON/);
      expect(await p.records("runs").getJson("missing")).toBeUndefined();
    });

    it("a value JSON cannot hold, and a namespace that is empty or holds NUL, are InvalidOperation", async () => {
      await expect(p.records("runs").putJson("r1", undefined)).rejects.toThrow(/side record "r1" in namespace "runs": undefined cannot be stored as JSON/);
      expect(() => p.records("")).toThrow(InvalidOperation);
      expect(() => p.records("a\u0000b")).toThrow(/must be non-empty and contain no NUL character/);
      await p.records("runs").putJson("r2", { ok: [1, "two"] });
      expect(await p.records("runs").getJson("r2")).toEqual({ ok: [1, "two"] });
    });
  });

  describe("it carries a workspace store", () => {
    it("a bundle applied before close is read back after the store is opened again", async () => {
      await p.close();
      const open = async (): Promise<WorkspaceStore> =>
        WorkspaceStore.open({ persistence: backend.open, schema: await exampleSchema(), workspaceId: "ws-contract", peerId: "peer-a" });
      let store = await open();
      const made = await store.apply([{ op: "CreateEntity", tables: ["lighting_cues"], fields: { number: 7 } }], USER);
      const id = made.results[0]?.id as string;
      await store.close();
      store = await open();
      expect(store.getField(id, "number")).toBe(7);
      expect((await store.history({ limit: 1 }))[0].hash).toBe(made.hash);
      await store.close();
      p = await backend.open();
    });
  });
});
