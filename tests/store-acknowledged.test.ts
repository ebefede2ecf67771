import fs from "node:fs";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { StorageError } from "../daemon/crdt/errors.ts";
import { inspectStorage } from "../daemon/crdt/persistence/index.ts";
import { recoverStore } from "../daemon/crdt/recover.ts";
import type { WorkspaceStore } from "../daemon/crdt/store.ts";
import { USER, WORKSPACE_ID, openTestStore, syncStores, tempDir } from "./helpers/store-fixture.ts";

let tmp: { dir: string; cleanup: () => void };
let storeDir: string;
let ackFile: string;
beforeEach(() => {
  tmp = tempDir("openprod-store-ack-");
  // As in a show: the record lives beside the LevelDB directory, not in it.
  storeDir = path.join(tmp.dir, "store");
  ackFile = path.join(tmp.dir, "store.acknowledged");
});
afterEach(() => {
  tmp.cleanup();
});

const open = (extra: Parameters<typeof openTestStore>[1] = {}): Promise<WorkspaceStore> =>
  openTestStore(storeDir, { acknowledgedFile: ackFile, ...extra });

/** 300 acknowledged bundles, kept as incremental change records in LevelDB's log (no compaction). */
async function write300(peer?: WorkspaceStore): Promise<string[]> {
  const store = await open();
  const ids: string[] = [];
  for (let i = 1; i <= 300; i++) {
    const r = await store.apply([{ op: "CreateEntity", tables: ["lighting_fixtures"], fields: { unit_number: `U${i}`, channel: i } }], USER);
    ids.push(r.results[0]?.id as string);
  }
  // In the same session, so that the log being damaged holds the bundles themselves.
  if (peer !== undefined) await syncStores(store, peer);
  await store.close();
  return ids;
}

/** Every data file's bytes; LOCK and LevelDB's info LOG (rotated by every open attempt) hold no data. */
function fileBytes(d: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const e of fs.readdirSync(d, { withFileTypes: true })) {
    if (!e.isFile() || ["LOCK", "LOG", "LOG.old"].includes(e.name)) continue;
    out[e.name] = fs.readFileSync(path.join(d, e.name)).toString("base64");
  }
  return out;
}

function logFile(): string {
  const name = fs.readdirSync(storeDir).find((n) => n.endsWith(".log"));
  if (name === undefined) throw new Error("test setup: no LevelDB log");
  return path.join(storeDir, name);
}

async function refusal(): Promise<StorageError> {
  const err = await open().then(
    async (s) => {
      await s.close();
      return undefined;
    },
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(StorageError);
  return err as StorageError;
}

describe("a store whose LevelDB log was damaged is refused, never silently shortened", () => {
  it("64 bytes overwritten mid-log: StorageError naming the log and how many bundles are missing; every file byte-identical", async () => {
    await write300();
    const log = logFile();
    const fd = fs.openSync(log, "r+");
    fs.writeSync(fd, Buffer.alloc(64, 0x5a), 0, 64, Math.floor(fs.fstatSync(fd).size / 2));
    fs.closeSync(fd);
    const before = fileBytes(storeDir);
    const ackBefore = fs.readFileSync(ackFile);

    const err = await refusal();
    expect(err.message).toContain(log);
    expect(err.message).toMatch(/checksum mismatch/);
    expect(err.message).toMatch(/\d+ of the 301 bundle\(s\) acknowledged \(#\d+\.\.#\d+\) are in the damaged part/);
    expect(err.message).toMatch(/nothing was changed on disk/i);
    expect(err.message).toContain("openprod store recover");
    expect(err.details.missing).toBeGreaterThan(0);
    expect(fileBytes(storeDir)).toEqual(before);
    expect(fs.readFileSync(ackFile)).toEqual(ackBefore);
    // Refused again: nothing was "repaired" behind the technician's back.
    await refusal();
    expect(fileBytes(storeDir)).toEqual(before);

    // store inspect names the same real file and the missing bundles, without touching anything.
    const report = await inspectStorage(storeDir, { acknowledgedFile: ackFile });
    expect(report.damagedFiles.map((f) => f.file)).toEqual([log]);
    expect(report.acknowledged?.missing.length).toBe(err.details.missing);
    expect(fileBytes(storeDir)).toEqual(before);
  });

  it("a log deleted outright (no checksum can tell): refused with the count, and LevelDB's rewrite is undone", async () => {
    await write300();
    fs.rmSync(logFile());
    const before = fileBytes(storeDir);
    const err = await refusal();
    expect(err.message).toMatch(/holds less than it acknowledged: 301 of the 301 bundle\(s\) acknowledged \(#1\.\.#301\) are missing/);
    expect(err.message).toMatch(/left exactly as they were/);
    expect(fileBytes(storeDir)).toEqual(before);
    expect(fs.readdirSync(storeDir).some((n) => n.startsWith(".preopen-"))).toBe(false);
  });

  it("a log cut short (as a crash never does to acknowledged data): refused, the short log kept as it was", async () => {
    await write300();
    const log = logFile();
    fs.truncateSync(log, Math.floor(fs.statSync(log).size * 0.75));
    const before = fileBytes(storeDir);
    const err = await refusal();
    expect(err.message).toMatch(/holds less than it acknowledged: \d+ of the 301 bundle\(s\) acknowledged/);
    expect(fileBytes(storeDir)).toEqual(before);
  });

  it("an intact store reopens with everything, and keeps its record current", async () => {
    const ids = await write300();
    const store = await open();
    expect(store.queryIds("table == 'lighting_fixtures'")).toHaveLength(300);
    await store.apply([{ op: "SetField", id: ids[0], field: "channel", value: 999 }], USER);
    await store.close();
    const again = await open();
    expect(again.queryIds("channel == 999")).toEqual([ids[0]]);
    await again.close();
  });
});

describe("a store whose files were all deleted does not start as an empty workspace", () => {
  it("refused with what it had and how to start fresh or rejoin from a peer; nothing is created", async () => {
    await write300();
    fs.rmSync(storeDir, { recursive: true });
    const err = await refusal();
    expect(err.message).toContain(`the workspace store at ${storeDir} is gone`);
    expect(err.message).toContain(`${ackFile} records 301 acknowledged bundle(s)`);
    expect(err.message).toContain("openprod store recover");
    expect(err.message).toContain(`delete ${ackFile}`);
    expect(fs.existsSync(storeDir)).toBe(false);
    // Starting fresh is a deliberate act: without the record, an empty workspace opens.
    fs.rmSync(ackFile);
    const fresh = await open();
    expect(fresh.queryIds("table == 'lighting_fixtures'")).toEqual([]);
    await fresh.close();
  });
});

describe("a read-only store works on a copy and never changes the files", () => {
  it("reads every bundle and leaves the files byte-identical (a plain open would replay and delete the log)", async () => {
    await write300();
    const before = fileBytes(storeDir);
    const reader = await open({ readOnly: true });
    expect(reader.queryIds("table == 'lighting_fixtures'")).toHaveLength(300);
    await reader.close();
    expect(fileBytes(storeDir)).toEqual(before);
  });

  it("takes no LOCK: a writer opens the real store while a reader is open", async () => {
    await write300();
    const reader = await open({ readOnly: true });
    const writer = await open();
    expect(writer.queryIds("table == 'lighting_fixtures'")).toHaveLength(300);
    await writer.close();
    await reader.close();
  });

  it("a damaged store read read-only is refused the same way, and left byte-identical", async () => {
    await write300();
    const fd = fs.openSync(logFile(), "r+");
    fs.writeSync(fd, Buffer.alloc(64, 0x5a), 0, 64, 40_000);
    fs.closeSync(fd);
    const before = fileBytes(storeDir);
    await expect(open({ readOnly: true })).rejects.toThrow(/is damaged: .*\.log fails its checksum/);
    expect(fileBytes(storeDir)).toEqual(before);
  });
});

describe("the store's files are the owner's alone", () => {
  it("directory 0700 and files 0600 whatever the umask", async () => {
    const old = process.umask(0);
    try {
      await write300();
    } finally {
      process.umask(old);
    }
    expect(fs.statSync(storeDir).mode & 0o777).toBe(0o700);
    for (const name of fs.readdirSync(storeDir)) expect([name, fs.statSync(path.join(storeDir, name)).mode & 0o777]).toEqual([name, 0o600]);
    expect(fs.statSync(ackFile).mode & 0o777).toBe(0o600);
  });
});

describe("recover keeps what verifies, moves the damaged store aside, and a peer supplies the rest", () => {
  it("after recovery the store opens with the bundles that verified; a sync with a peer brings back the others", async () => {
    // A peer that has everything.
    const peerDir = path.join(tmp.dir, "peer");
    const peer = await openTestStore(peerDir, { peerId: "peer-b" });
    await write300(peer);
    expect(peer.queryIds("table == 'lighting_fixtures'")).toHaveLength(300);

    const fd = fs.openSync(logFile(), "r+");
    fs.writeSync(fd, Buffer.alloc(64, 0x5a), 0, 64, Math.floor(fs.fstatSync(fd).size / 2));
    fs.closeSync(fd);
    const damagedBytes = fileBytes(storeDir);
    const err = await refusal();

    const r = await recoverStore({ dir: storeDir, acknowledgedFile: ackFile, workspaceId: WORKSPACE_ID, now: new Date("2026-12-01T10:00:00Z") });
    expect(r.movedTo).toBe(`${storeDir}.damaged-2026-12-01T10-00-00-000Z`);
    expect(fileBytes(r.movedTo as string)).toEqual(damagedBytes);
    expect(r.damagedFiles).toHaveLength(1);
    expect(r.acknowledged).toBe(301);
    expect(r.kept).toBeGreaterThan(0);
    expect(r.kept + (err.details.missing as number)).toBeLessThanOrEqual(301);

    const recovered = await open();
    const kept = recovered.queryIds("table == 'lighting_fixtures'").length;
    expect(kept).toBeLessThan(300);
    await syncStores(recovered, peer);
    expect(recovered.queryIds("table == 'lighting_fixtures'")).toHaveLength(300);
    await recovered.close();
    await peer.close();
    // And it stays whole across a restart.
    const reopened = await open();
    expect(reopened.queryIds("table == 'lighting_fixtures'")).toHaveLength(300);
    await reopened.close();
  });
});
