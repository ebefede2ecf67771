/**
 * Reading the stored workspace back: snapshot, the changes after it, the
 * recorded heads. A record that fails its checksum is reported in `damaged`
 * and skipped; one bad record never stops the rest from loading.
 */

import type { DamagedRecord, LoadedState, StoredChange } from "./contract.ts";
import type { StoreDb } from "./open-level.ts";
import { ioError } from "./open-level.ts";
import {
  CHANGE_END,
  CHANGE_FIRST,
  HEADS_KEY,
  SNAPSHOT_KEY,
  SNAPSHOT_META_KEY,
  seqOfChangeKey,
} from "./keys.ts";
import {
  decodeChange,
  decodeHeadsRecord,
  decodeSnapshotMeta,
  peekChangeHash,
  plainBytes,
  verifySnapshot,
} from "./record-codec.ts";

/** What the database itself holds (the acknowledged record lives apart). */
export type StoredState = Omit<LoadedState, "acknowledged">;

export async function readWorkspace(db: StoreDb, dir: string): Promise<StoredState> {
  try {
    return await read(db);
  } catch (e) {
    throw ioError(dir, "loading the workspace", e);
  }
}

async function read(db: StoreDb): Promise<StoredState> {
  const damaged: DamagedRecord[] = [];
  const snapshot = await readSnapshot(db, damaged);
  const recordedHeads = await readHeads(db, damaged);
  const uptoSeq = snapshot?.uptoSeq ?? 0;
  const changes: StoredChange[] = [];
  for await (const [key, value] of db.iterator({ gte: CHANGE_FIRST, lt: CHANGE_END })) {
    const seq = seqOfChangeKey(key);
    if (seq === undefined) {
      damaged.push({ key, reason: `malformed change key (expected "c:" and 16 digits)` });
      continue;
    }
    // Left behind only if compaction's own batch was lost, which LevelDB's atomic batches exclude;
    // skipping keeps a snapshot and a change from both being applied.
    if (seq <= uptoSeq) continue;
    const decoded = decodeChange(seq, value);
    if (decoded.ok) {
      changes.push(decoded.value);
    } else {
      const hash = peekChangeHash(value);
      damaged.push({
        key,
        seq,
        ...(hash === undefined ? {} : { hash }),
        reason: `change seq ${seq}${hash === undefined ? "" : ` (hash ${hash})`}: ${decoded.reason}`,
      });
    }
  }
  return { snapshot, changes, recordedHeads, damaged };
}

async function readSnapshot(db: StoreDb, damaged: DamagedRecord[]): Promise<LoadedState["snapshot"]> {
  const metaValue = await db.get(SNAPSHOT_META_KEY);
  if (metaValue === undefined) return null;
  const meta = decodeSnapshotMeta(metaValue);
  if (!meta.ok) {
    damaged.push({ key: SNAPSHOT_META_KEY, reason: `snapshot metadata: ${meta.reason}` });
    return null;
  }
  const bytes = await db.get(SNAPSHOT_KEY);
  if (bytes === undefined) {
    damaged.push({ key: SNAPSHOT_KEY, reason: `snapshot up to seq ${meta.value.uptoSeq} is missing` });
    return null;
  }
  const bad = verifySnapshot(meta.value, bytes);
  if (bad !== undefined) {
    damaged.push({ key: SNAPSHOT_KEY, reason: `snapshot up to seq ${meta.value.uptoSeq}: ${bad}` });
    return null;
  }
  return { bytes: plainBytes(bytes), heads: meta.value.heads, uptoSeq: meta.value.uptoSeq };
}

async function readHeads(db: StoreDb, damaged: DamagedRecord[]): Promise<string[] | null> {
  const value = await db.get(HEADS_KEY);
  if (value === undefined) return null;
  const decoded = decodeHeadsRecord(value);
  if (decoded.ok) return decoded.value.heads;
  damaged.push({ key: HEADS_KEY, reason: `recorded heads: ${decoded.reason}` });
  return null;
}

/** Where the sequence stands: the last seq ever assigned, and the first change record still stored. */
export interface SeqPosition {
  lastSeq: number;
  /** Compaction deletes change keys from here on; lastSeq + 1 when no change is stored. */
  firstStoredSeq: number;
  snapshotUptoSeq: number;
}

/** Cheap to compute at open: reads two small records and the first and last change keys. */
export async function readSeqPosition(db: StoreDb, dir: string): Promise<SeqPosition> {
  try {
    let lastSeq = 0;
    let snapshotUptoSeq = 0;
    const metaValue = await db.get(SNAPSHOT_META_KEY);
    if (metaValue !== undefined) {
      const meta = decodeSnapshotMeta(metaValue);
      if (meta.ok) snapshotUptoSeq = meta.value.uptoSeq;
    }
    const headsValue = await db.get(HEADS_KEY);
    if (headsValue !== undefined) {
      const heads = decodeHeadsRecord(headsValue);
      if (heads.ok) lastSeq = heads.value.seq;
    }
    const first = await db.keys({ gte: CHANGE_FIRST, lt: CHANGE_END, limit: 1 }).all();
    const last = await db.keys({ gte: CHANGE_FIRST, lt: CHANGE_END, limit: 1, reverse: true }).all();
    const lastStoredSeq = last.length > 0 ? (seqOfChangeKey(last[0]) ?? 0) : 0;
    // A damaged heads record must never make a seq be handed out twice: take the highest evidence.
    lastSeq = Math.max(lastSeq, lastStoredSeq, snapshotUptoSeq);
    // A malformed first key hides where the changes start; starting at 1 makes compaction still delete them all.
    const firstStoredSeq = first.length === 0 ? lastSeq + 1 : (seqOfChangeKey(first[0]) ?? 1);
    return { lastSeq, firstStoredSeq, snapshotUptoSeq };
  } catch (e) {
    throw ioError(dir, "reading the change sequence", e);
  }
}
