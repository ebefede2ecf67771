import { execFile } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { Level } from "level";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { inspectStorage, openPersistence } from "../daemon/crdt/persistence/index.ts";
import { StorageError } from "../daemon/crdt/errors.ts";
import { changeBytes, changeHash, snapshotBytes } from "./fixtures/persistence-content.ts";

const run = promisify(execFile);
const OPENER = path.join(import.meta.dirname, "fixtures", "persistence-opener.ts");

let dir: string;

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "openprod-persistence-dmg-"));
});

afterEach(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

async function writeStore(count: number, compactUpto?: number): Promise<void> {
  const p = await openPersistence({ dir, fsync: false });
  for (let seq = 1; seq <= count; seq++) {
    await p.appendChanges([{ hash: changeHash(seq), bytes: changeBytes(seq) }], [changeHash(seq)]);
  }
  if (compactUpto !== undefined) await p.compact(snapshotBytes(compactUpto), [changeHash(compactUpto)], compactUpto);
  await p.records("sync").putJson("peer-a", { ok: true });
  await p.close();
}

/** Flips one byte of a stored value through a raw LevelDB handle, as a bad disk would. */
async function flipByte(key: string, offsetFromEnd: number): Promise<void> {
  const raw = new Level<string, Uint8Array>(dir, { keyEncoding: "utf8", valueEncoding: "view" });
  await raw.open();
  const value = await raw.get(key);
  if (value === undefined) throw new Error(`test setup: no record ${key}`);
  const copy = Uint8Array.from(value);
  copy[copy.length - offsetFromEnd] ^= 0x40;
  await raw.put(key, copy);
  await raw.close();
}

/** Contents of LevelDB's data files; LOCK and the info LOG (rotated on every open attempt) are not data. */
function fileDigest(d: string): Record<string, string> {
  const out: Record<string, string> = {};
  const data = fs.readdirSync(d).filter((name) => !["LOCK", "LOG", "LOG.old"].includes(name));
  for (const name of data.sort()) out[name] = fs.readFileSync(path.join(d, name)).toString("base64");
  return out;
}

describe("a damaged record is reported by key and seq, and the rest still loads", () => {
  it("a flipped byte in a change is named in load() and in inspectStorage", async () => {
    await writeStore(5);
    await flipByte("c:0000000000000003", 1);

    const p = await openPersistence({ dir, fsync: false });
    const state = await p.load();
    expect(state.changes.map((c) => c.seq)).toEqual([1, 2, 4, 5]);
    expect(state.damaged).toHaveLength(1);
    expect(state.damaged[0]).toMatchObject({ key: "c:0000000000000003", seq: 3, hash: changeHash(3) });
    expect(state.damaged[0].reason).toMatch(/change seq 3 .*checksum mismatch/);

    // inspectStorage works while the daemon holds the store, and names the same record.
    const report = await inspectStorage(dir);
    expect(report.damaged.map((d) => d.key)).toEqual(["c:0000000000000003"]);
    expect(report.changes.map((c) => c.seq)).toEqual([1, 2, 4, 5]);
    expect(report.changes[0]).toEqual({ seq: 1, hash: changeHash(1), size: changeBytes(1).byteLength });
    expect(report.namespaces).toEqual([{ namespace: "sync", records: 1, size: Buffer.byteLength('{"ok":true}') }]);
    await p.close();
  });

  it("a damaged snapshot is reported and not handed out", async () => {
    await writeStore(4, 3);
    await flipByte("s:snapshot", 10);
    const p = await openPersistence({ dir, fsync: false });
    const state = await p.load();
    expect(state.snapshot).toBeNull();
    expect(state.damaged).toEqual([
      { key: "s:snapshot", reason: expect.stringMatching(/snapshot up to seq 3: checksum mismatch/) },
    ]);
    expect(state.changes.map((c) => c.seq)).toEqual([4]);
    // Numbering must not restart below what the damaged snapshot covered.
    expect(await p.appendChanges([{ hash: changeHash(5), bytes: changeBytes(5) }], [changeHash(5)])).toBe(5);
    await p.close();
  });

  it("a damaged side record is an error naming its key, and inspectStorage lists it", async () => {
    await writeStore(1);
    await flipByte("r:sync\u0000peer-a", 2);
    const p = await openPersistence({ dir, fsync: false });
    await expect(p.records("sync").getJson("peer-a")).rejects.toThrow(/side record "peer-a" in namespace "sync".*damaged/);
    await p.close();
    const report = await inspectStorage(dir);
    expect(report.damaged.map((d) => d.key)).toEqual(["r:sync\u0000peer-a"]);
  });

  it("inspectStorage never writes to the store", async () => {
    await writeStore(3, 2);
    const before = fileDigest(dir);
    const report = await inspectStorage(dir);
    expect(report.snapshot).toEqual({ uptoSeq: 2, heads: [changeHash(2)], size: snapshotBytes(2).byteLength });
    expect(report.recordedHeads).toEqual([changeHash(3)]);
    expect(fileDigest(dir)).toEqual(before);
    await expect(inspectStorage(path.join(dir, "nope"))).rejects.toThrow(/no workspace store at/);
  });
});

describe("a store in use or corrupt is refused with a reason, never repaired", () => {
  it("a second process opening the same store gets a LOCK StorageError", async () => {
    const p = await openPersistence({ dir, fsync: false });
    const { stdout } = await run(process.execPath, ["--import", "tsx", OPENER, dir], { timeout: 30_000 });
    const outcome = JSON.parse(stdout.trim()) as { opened: boolean; code?: string; message?: string };
    expect(outcome.opened).toBe(false);
    expect(outcome.code).toBe("StorageError");
    expect(outcome.message).toContain(`the workspace store at ${dir} is in use by process ${process.pid} (`);
    expect(outcome.message).toContain("which holds its LOCK");
    await p.close();
  });

  it("a corrupt database is named with LevelDB's reason and left byte-for-byte as it was", async () => {
    await writeStore(2);
    fs.writeFileSync(path.join(dir, "CURRENT"), "garbage-without-newline");
    const before = fileDigest(dir);
    const err = await openPersistence({ dir, fsync: false }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(StorageError);
    expect((err as StorageError).message).toContain(`the workspace store at ${dir} is corrupt`);
    expect((err as StorageError).details.levelCode).toBe("LEVEL_CORRUPTION");
    expect(fileDigest(dir)).toEqual(before);
  });
});
