import { Level } from "level";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { StorageError } from "../daemon/crdt/errors.ts";
import { USER, WORKSPACE_ID, openTestStore, tempDir } from "./helpers/store-fixture.ts";
import { createFixture } from "./fixtures/store-pair.ts";

let tmp: { dir: string; cleanup: () => void };
beforeEach(() => {
  tmp = tempDir("openprod-store-damage-");
});
afterEach(() => {
  tmp.cleanup();
});

/** A store with a few bundles kept as incremental change records (no compaction). */
async function writeStore(): Promise<void> {
  const store = await openTestStore(tmp.dir);
  const id = await createFixture(store, { unit_number: "A1", channel: 1 });
  for (let i = 2; i <= 5; i++) await store.apply([{ op: "SetField", id, field: "channel", value: i }], USER);
  await store.close();
}

/** Flips one byte in the middle of a stored value through a raw LevelDB handle, as a bad disk would. */
async function flipByte(pick: (keys: string[]) => string): Promise<string> {
  const raw = new Level<string, Uint8Array>(tmp.dir, { keyEncoding: "utf8", valueEncoding: "view" });
  await raw.open();
  try {
    const keys: string[] = [];
    for await (const k of raw.keys()) keys.push(k);
    const key = pick(keys);
    const value = await raw.get(key);
    if (value === undefined) throw new Error(`test setup: no record ${key}`);
    const copy = Uint8Array.from(value);
    copy[Math.floor(copy.length / 2)] ^= 0x40;
    await raw.put(key, copy);
    return key;
  } finally {
    await raw.close();
  }
}

/**
 * Every record of the database, read through a raw LevelDB handle. (Byte-level
 * files are not comparable: any LevelDB open replays its log into a new table
 * and writes a new MANIFEST, whatever the store then decides.)
 */
async function dumpRecords(d: string): Promise<Map<string, string>> {
  const raw = new Level<string, Uint8Array>(d, { keyEncoding: "utf8", valueEncoding: "view" });
  await raw.open();
  try {
    const out = new Map<string, string>();
    for await (const [k, v] of raw.iterator()) out.set(k, Buffer.from(v).toString("base64"));
    return out;
  } finally {
    await raw.close();
  }
}

describe("a damaged store is refused, named, and left as it was", () => {
  it("a flipped byte in a stored change: open rejects with StorageError naming the record, every record left as it was", async () => {
    await writeStore();
    const key = await flipByte((keys) => keys.filter((k) => k.startsWith("c:"))[2]);
    const before = await dumpRecords(tmp.dir);
    const err = await openTestStore(tmp.dir).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StorageError);
    const message = (err as StorageError).message;
    expect(message).toContain(key);
    expect(message).toContain(tmp.dir);
    expect(message).toMatch(/nothing was changed/i);
    expect(await dumpRecords(tmp.dir)).toEqual(before);
    // Still refused the second time: nothing was "repaired" behind the technician's back.
    await expect(openTestStore(tmp.dir)).rejects.toBeInstanceOf(StorageError);
    expect(await dumpRecords(tmp.dir)).toEqual(before);
  });

  it("a store opened with another workspace id is refused with both ids named", async () => {
    await writeStore();
    const err = await openTestStore(tmp.dir, { workspaceId: "other-show" }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StorageError);
    expect((err as StorageError).message).toContain(`"${WORKSPACE_ID}"`);
    expect((err as StorageError).message).toContain(`"other-show"`);
    // The right id still opens it, with everything in place.
    const store = await openTestStore(tmp.dir);
    expect(store.queryIds("table == 'lighting_fixtures' AND channel == 5")).toHaveLength(1);
    await store.close();
  });
});
