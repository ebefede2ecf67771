/**
 * `openprod` looking at a workspace store without touching it: a private copy
 * is opened (see store-copy.ts), which also works while a daemon holds the
 * store's LOCK. LevelDB's logs are verified on the real files first, and the
 * records are read leniently from the copy, so a damaged store still shows
 * what can be recovered from it, and every file is named by its real path.
 */

import fs from "node:fs";
import path from "node:path";
import type { DamagedRecord, StorageReport } from "./contract.ts";
import type { StoreDb } from "./open-level.ts";
import { ioError, openLevel } from "./open-level.ts";
import { readSeqPosition, readWorkspace } from "./workspace-reader.ts";
import { RECORD_END, RECORD_FIRST, parseRecordKey } from "./keys.ts";
import { decodeSideRecord } from "./record-codec.ts";
import { checkLevelLogs } from "./level-logs.ts";
import { openCopy } from "./store-copy.ts";
import { DEFAULT_ACKNOWLEDGED_FILE, missingSeqs, readAcknowledged } from "./acknowledged-record.ts";
import { StorageError } from "../errors.ts";

export interface InspectOptions {
  /** The acknowledged record (default `<dir>/ACKNOWLEDGED`, as openPersistence). */
  acknowledgedFile?: string;
}

export async function inspectStorage(dir: string, opts: InspectOptions = {}): Promise<StorageReport> {
  if (!fs.existsSync(path.join(dir, "CURRENT"))) {
    throw new StorageError(`there is no workspace store at ${dir} (no LevelDB CURRENT file)`, { dir });
  }
  // Read before the copy is taken: a record read later could be ahead of the copied files.
  const ackFile = opts.acknowledgedFile ?? path.join(dir, DEFAULT_ACKNOWLEDGED_FILE);
  const ack = readAcknowledged(ackFile);
  const damagedFiles = checkLevelLogs(dir);
  const { copy, value: db } = await openCopy(dir, (copyDir) => openLevel(copyDir, false));
  try {
    const r = await report(db, dir);
    if (ack.state === "damaged") r.damaged.push({ key: ackFile, reason: `acknowledged record: ${ack.reason}` });
    const position = await readSeqPosition(db, dir);
    const acknowledged =
      ack.state === "ok"
        ? { file: ackFile, seq: ack.value.seq, heads: ack.value.heads, missing: missingSeqs(Math.max(ack.value.seq, position.lastSeq), r.state) }
        : null;
    return { ...r.report, damagedFiles, acknowledged };
  } finally {
    await db.close();
    copy.remove();
  }
}

async function report(
  db: StoreDb,
  dir: string,
): Promise<{ report: Omit<StorageReport, "damagedFiles" | "acknowledged">; damaged: DamagedRecord[]; state: Awaited<ReturnType<typeof readWorkspace>> }> {
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
  const shown = {
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
  return { report: shown, damaged, state };
}
