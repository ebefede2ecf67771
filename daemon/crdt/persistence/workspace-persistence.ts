/**
 * The workspace store's durable half on LevelDB: an append-only log of
 * Automerge changes keyed by seq, a periodically installed full save, and
 * side records, all written through one group-commit queue so that every
 * write is atomic, ordered and durable before its promise resolves.
 */

import type {
  LoadedState,
  PersistenceOptions,
  PersistenceStats,
  RecordSpace,
  RecordWrite,
  WorkspacePersistence,
} from "./contract.ts";
import type { StoreDb } from "./open-level.ts";
import type { WriteOp } from "./commit-queue.ts";
import { CommitQueue } from "./commit-queue.ts";
import { ioError, openLevel } from "./open-level.ts";
import { readSeqPosition, readWorkspace } from "./workspace-reader.ts";
import { createRecordSpace } from "./record-space.ts";
import {
  FORMAT_KEY,
  FORMAT_VALUE,
  HEADS_KEY,
  SNAPSHOT_KEY,
  SNAPSHOT_META_KEY,
  changeKey,
  checkNamespace,
  recordKey,
} from "./keys.ts";
import { encodeChange, encodeHeadsRecord, encodeSideRecord, encodeSnapshotMeta } from "./record-codec.ts";
import { InvalidOperation, StorageError } from "../errors.ts";

export async function openPersistence(opts: PersistenceOptions): Promise<WorkspacePersistence> {
  const db = await openLevel(opts.dir, true);
  try {
    await checkFormat(db, opts.dir);
    const position = await readSeqPosition(db, opts.dir);
    return new LevelWorkspacePersistence(db, opts, position.lastSeq, position.firstStoredSeq);
  } catch (e) {
    await db.close();
    throw e;
  }
}

async function checkFormat(db: StoreDb, dir: string): Promise<void> {
  let stored: Uint8Array | undefined;
  try {
    stored = await db.get(FORMAT_KEY);
  } catch (e) {
    throw ioError(dir, "reading the store format", e);
  }
  if (stored === undefined) {
    // Marked on first open so a future format change can be recognised instead of misread.
    await db.put(FORMAT_KEY, Buffer.from(FORMAT_VALUE, "utf8"), { sync: true });
    return;
  }
  const text = Buffer.from(stored.buffer, stored.byteOffset, stored.byteLength).toString("utf8");
  if (text !== FORMAT_VALUE) {
    throw new StorageError(
      `the workspace store at ${dir} has format "${text}", this daemon reads "${FORMAT_VALUE}"; it was left untouched`,
      { dir, format: text },
    );
  }
}

class LevelWorkspacePersistence implements WorkspacePersistence {
  private readonly queue: CommitQueue;
  private readonly dir: string;
  /** The last seq handed out (durable or still queued). */
  private lastSeq: number;
  /** No change record with a smaller seq is stored; compaction deletes from here. */
  private firstStoredSeq: number;

  constructor(
    private readonly db: StoreDb,
    opts: PersistenceOptions,
    lastSeq: number,
    firstStoredSeq: number,
  ) {
    this.dir = opts.dir;
    this.queue = new CommitQueue(db, opts.dir, opts.fsync);
    this.lastSeq = lastSeq;
    this.firstStoredSeq = firstStoredSeq;
  }

  load(): Promise<LoadedState> {
    return readWorkspace(this.db, this.dir);
  }

  async appendChanges(
    changes: { hash: string; bytes: Uint8Array }[],
    headsAfter: string[],
    side?: RecordWrite[],
  ): Promise<number> {
    const ops: WriteOp[] = [];
    let seq = this.lastSeq;
    for (let i = 0; i < changes.length; i++) {
      seq++;
      ops.push({ type: "put", key: changeKey(seq), value: encodeChange(seq, changes[i].hash, changes[i].bytes) });
    }
    ops.push({ type: "put", key: HEADS_KEY, value: encodeHeadsRecord(seq, headsAfter) });
    if (side !== undefined) pushRecordWrites(ops, side);
    // Seqs are taken only once encoding succeeded, so a rejected call leaves no gap.
    this.lastSeq = seq;
    await this.queue.commit(ops);
    return seq;
  }

  async compact(snapshot: Uint8Array, heads: string[], uptoSeq: number): Promise<void> {
    if (!Number.isSafeInteger(uptoSeq) || uptoSeq < 0 || uptoSeq > this.lastSeq) {
      throw new InvalidOperation(
        `compact: uptoSeq ${uptoSeq} is not a seq of this store (changes are numbered 1..${this.lastSeq})`,
        { uptoSeq, lastSeq: this.lastSeq },
      );
    }
    const ops: WriteOp[] = [
      { type: "put", key: SNAPSHOT_KEY, value: snapshot },
      { type: "put", key: SNAPSHOT_META_KEY, value: encodeSnapshotMeta(uptoSeq, snapshot, heads) },
    ];
    for (let seq = this.firstStoredSeq; seq <= uptoSeq; seq++) ops.push({ type: "del", key: changeKey(seq) });
    // Only when nothing was appended past the snapshot; otherwise the last append's heads stay current.
    if (uptoSeq === this.lastSeq) ops.push({ type: "put", key: HEADS_KEY, value: encodeHeadsRecord(uptoSeq, heads) });
    await this.queue.commit(ops);
    this.firstStoredSeq = Math.max(this.firstStoredSeq, uptoSeq + 1);
  }

  records(namespace: string): RecordSpace {
    checkNamespace(namespace);
    return createRecordSpace(namespace, { db: this.db, dir: this.dir, write: (w) => this.writeRecords(w) });
  }

  async writeRecords(writes: RecordWrite[]): Promise<void> {
    const ops: WriteOp[] = [];
    pushRecordWrites(ops, writes);
    await this.queue.commit(ops);
  }

  stats(): PersistenceStats {
    return this.queue.stats();
  }

  async close(): Promise<void> {
    await this.queue.close();
    if (this.db.status === "open" || this.db.status === "opening") await this.db.close();
  }
}

function pushRecordWrites(ops: WriteOp[], writes: RecordWrite[]): void {
  for (const w of writes) {
    checkNamespace(w.namespace);
    const key = recordKey(w.namespace, w.key);
    ops.push(w.value === null ? { type: "del", key } : { type: "put", key, value: encodeSideRecord(w.value) });
  }
}
