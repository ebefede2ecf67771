/**
 * `openprod` looking at a workspace store without touching it. LevelDB writes
 * to its directory even when only reading (lock file, new log, compactions),
 * so the files are copied to a private temporary directory and the copy is
 * opened. This also works while a daemon holds the store's LOCK.
 */

import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import type { DamagedRecord, StorageReport } from "./contract.ts";
import type { StoreDb } from "./open-level.ts";
import { ioError, openLevel } from "./open-level.ts";
import { readWorkspace } from "./workspace-reader.ts";
import { RECORD_END, RECORD_FIRST, parseRecordKey } from "./keys.ts";
import { decodeSideRecord } from "./record-codec.ts";
import { StorageError } from "../errors.ts";

const COPY_ATTEMPTS = 3;

export async function inspectStorage(dir: string): Promise<StorageReport> {
  if (!fs.existsSync(path.join(dir, "CURRENT"))) {
    throw new StorageError(`there is no workspace store at ${dir} (no LevelDB CURRENT file)`, { dir });
  }
  const copy = fs.mkdtempSync(path.join(os.tmpdir(), "openprod-inspect-"));
  try {
    const db = await openCopy(dir, copy);
    try {
      return await report(db, dir);
    } finally {
      await db.close();
    }
  } finally {
    fs.rmSync(copy, { recursive: true, force: true });
  }
}

/**
 * Copies the store and opens the copy. If a running daemon changed the file
 * set while we copied (a compaction wrote a new table), the copy can be
 * inconsistent; then, and only then, it is taken again.
 */
async function openCopy(dir: string, copy: string): Promise<StoreDb> {
  for (let attempt = 1; ; attempt++) {
    const copied = copyStore(dir, copy);
    try {
      return await openLevel(copy, false);
    } catch (e) {
      const changed = listing(dir).join("/") !== copied.join("/");
      if (changed && attempt < COPY_ATTEMPTS) {
        for (const name of fs.readdirSync(copy)) fs.rmSync(path.join(copy, name), { force: true });
        continue;
      }
      // Name the real store, not the private copy.
      throw e instanceof StorageError ? new StorageError(e.message.replaceAll(copy, dir), { ...e.details, dir }) : e;
    }
  }
}

function listing(dir: string): string[] {
  return fs
    .readdirSync(dir)
    .filter((name) => name !== "LOCK")
    .sort();
}

/** A running daemon may delete a table file between listing and copying it; listing again settles it. */
function copyStore(dir: string, copy: string): string[] {
  for (let attempt = 1; ; attempt++) {
    try {
      const names = listing(dir);
      for (const name of names) fs.copyFileSync(path.join(dir, name), path.join(copy, name));
      return names;
    } catch (e) {
      if (attempt >= COPY_ATTEMPTS) throw ioError(dir, "copying the store for inspection", e);
      for (const name of fs.readdirSync(copy)) fs.rmSync(path.join(copy, name), { force: true });
    }
  }
}

async function report(db: StoreDb, dir: string): Promise<StorageReport> {
  const state = await readWorkspace(db, dir);
  const damaged: DamagedRecord[] = [...state.damaged];
  const namespaces = new Map<string, { namespace: string; records: number; size: number }>();
  try {
    for await (const [key, value] of db.iterator({ gte: RECORD_FIRST, lt: RECORD_END })) {
      const parsed = parseRecordKey(key);
      if (parsed === undefined) {
        damaged.push({ key, reason: "malformed side record key (no namespace separator)" });
        continue;
      }
      const decoded = decodeSideRecord(value);
      if (!decoded.ok) {
        damaged.push({ key, reason: `side record "${parsed.key}" in namespace "${parsed.namespace}": ${decoded.reason}` });
        continue;
      }
      const entry = namespaces.get(parsed.namespace) ?? { namespace: parsed.namespace, records: 0, size: 0 };
      entry.records++;
      entry.size += decoded.value.byteLength;
      namespaces.set(parsed.namespace, entry);
    }
  } catch (e) {
    throw ioError(dir, "reading side records", e);
  }
  return {
    dir,
    snapshot:
      state.snapshot === null
        ? null
        : { uptoSeq: state.snapshot.uptoSeq, heads: state.snapshot.heads, size: state.snapshot.bytes.byteLength },
    changes: state.changes.map((c) => ({ seq: c.seq, hash: c.hash, size: c.bytes.byteLength })),
    recordedHeads: state.recordedHeads,
    namespaces: [...namespaces.values()],
    damaged,
  };
}
