/**
 * Getting a damaged store back in service, the persistence half: read what
 * still verifies (leniently, from a private copy, so the damaged files are
 * never touched), move the damaged store aside as it is, and start a new
 * store from what was kept. Which changes are worth keeping is the caller's
 * call (it knows Automerge); this side only moves bytes and records.
 */

import fs from "node:fs";
import path from "node:path";
import type { DamagedFile, RecordWrite, StoredChange } from "./contract.ts";
import { ioError, lockHolder, openLevel } from "./open-level.ts";
import { StorageError } from "../errors.ts";
import { readWorkspace } from "./workspace-reader.ts";
import { RECORD_END, RECORD_FIRST, parseRecordKey } from "./keys.ts";
import { decodeSideRecord, plainBytes } from "./record-codec.ts";
import { checkLevelLogs } from "./level-logs.ts";
import { openCopy } from "./store-copy.ts";
import { DEFAULT_ACKNOWLEDGED_FILE, readAcknowledged } from "./acknowledged-record.ts";

export interface Salvage {
  snapshot: Uint8Array | null;
  /** Changes that verify, in seq order. */
  changes: StoredChange[];
  /** Side records that verify. */
  records: RecordWrite[];
  /** Records that do not verify (left behind). */
  damagedRecords: number;
  damagedFiles: DamagedFile[];
  /** The acknowledged seq on record, if any. */
  acknowledgedSeq: number | null;
}

/** What verifies in the store at `dir` (nothing when the store is gone). The store's files are not changed. */
export async function salvageStorage(dir: string, acknowledgedFile?: string): Promise<Salvage> {
  const ack = readAcknowledged(acknowledgedFile ?? path.join(dir, DEFAULT_ACKNOWLEDGED_FILE));
  const acknowledgedSeq = ack.state === "ok" ? ack.value.seq : null;
  if (!fs.existsSync(path.join(dir, "CURRENT"))) {
    return { snapshot: null, changes: [], records: [], damagedRecords: 0, damagedFiles: [], acknowledgedSeq };
  }
  const damagedFiles = checkLevelLogs(dir);
  const { copy, value: db } = await openCopy(dir, (copyDir) => openLevel(copyDir, false));
  try {
    const state = await readWorkspace(db, dir);
    const records: RecordWrite[] = [];
    let damagedRecords = state.damaged.length;
    try {
      for await (const [key, value] of db.iterator({ gte: RECORD_FIRST, lt: RECORD_END })) {
        const parsed = parseRecordKey(key);
        const decoded = decodeSideRecord(value);
        if (parsed === undefined || !decoded.ok) {
          damagedRecords++;
          continue;
        }
        // Copied: the view points into LevelDB's buffer, which the next step of the iterator may reuse.
        records.push({ namespace: parsed.namespace, key: parsed.key, value: Uint8Array.from(plainBytes(decoded.value)) });
      }
    } catch (e) {
      throw ioError(dir, "reading side records", e);
    }
    return { snapshot: state.snapshot?.bytes ?? null, changes: state.changes, records, damagedRecords, damagedFiles, acknowledgedSeq };
  } finally {
    await db.close();
    copy.remove();
  }
}

/**
 * Renames the store directory (and its acknowledged record, when kept apart)
 * to `<dir>.damaged-<time>`, exactly as they are; returns the new path of the directory.
 */
export function moveStoreAside(dir: string, acknowledgedFile?: string, now: Date = new Date()): string | null {
  const holder = lockHolder(dir);
  if (holder !== undefined) {
    throw new StorageError(
      `the workspace store at ${dir} is in use by process ${holder.pid} (${holder.command}); stop it before recovering the store, nothing was moved`,
      { dir, holderPid: holder.pid, holderCommand: holder.command },
    );
  }
  const stamp = now.toISOString().replace(/[:.]/g, "-");
  const aside = `${dir}.damaged-${stamp}`;
  try {
    if (fs.existsSync(dir)) fs.renameSync(dir, aside);
    if (acknowledgedFile !== undefined && fs.existsSync(acknowledgedFile) && path.dirname(acknowledgedFile) !== dir) {
      fs.renameSync(acknowledgedFile, `${aside}.acknowledged`);
    }
  } catch (e) {
    throw ioError(dir, `moving the damaged store aside to ${aside}`, e);
  }
  return fs.existsSync(aside) ? aside : null;
}
