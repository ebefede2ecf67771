/**
 * The workspace store's durable half on LevelDB: an append-only log of
 * Automerge changes keyed by seq, a periodically installed full save, and
 * side records, all written through one group-commit queue so that every
 * write is atomic, ordered and durable before its promise resolves.
 */

import fs from "node:fs";
import path from "node:path";
import type {
  AcknowledgedState,
  DamagedFile,
  LoadedState,
  OpenPersistence,
  PersistenceOptions,
  PersistenceStats,
  RecordSpace,
  RecordWrite,
  WorkspacePersistence,
} from "./contract.ts";
import type { StoreDb } from "./open-level.ts";
import type { WriteOp } from "./commit-queue.ts";
import { CommitQueue } from "./commit-queue.ts";
import { ioError, lockHolder, lockedStore, openLevel, restrictModes } from "./open-level.ts";
import { readSeqPosition, readWorkspace } from "./workspace-reader.ts";
import type { SeqPosition } from "./workspace-reader.ts";
import { AcknowledgedWriter, DEFAULT_ACKNOWLEDGED_FILE, describeMissing, missingSeqs, readAcknowledged } from "./acknowledged-record.ts";
import type { Acknowledged } from "./acknowledged-record.ts";
import { checkLevelLogs } from "./level-logs.ts";
import { openCopy, renameDir } from "./store-copy.ts";
import type { StoreCopy } from "./store-copy.ts";
import { preserveFiles } from "./preserved-files.ts";
import type { PreservedFiles } from "./preserved-files.ts";
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

/** The LevelDB backend for `WorkspaceStore.open`: opens the store at `opts.dir` when the store asks. */
export function levelPersistence(opts: PersistenceOptions): OpenPersistence {
  return () => openPersistence(opts);
}

/**
 * Opens the store, refusing (StorageError, every file left as it was) one that
 * is damaged or holds less than it acknowledged. In order: the acknowledged
 * record is read; a store that is gone while the record says it had bundles
 * is refused; LevelDB's logs are verified before LevelDB may touch them; then
 * LevelDB opens (on a copy when read-only) and what it holds is checked
 * against the record.
 */
export async function openPersistence(opts: PersistenceOptions): Promise<WorkspacePersistence> {
  const { dir } = opts;
  const ackFile = opts.acknowledgedFile ?? path.join(dir, DEFAULT_ACKNOWLEDGED_FILE);
  const ack = acknowledgedOrRefuse(ackFile, dir);
  const exists = fs.existsSync(path.join(dir, "CURRENT"));
  if (!exists && ack !== null && ack.seq > 0) throw storeGoneError(dir, ackFile, ack);
  if (exists) {
    const damagedFiles = checkLevelLogs(dir);
    if (damagedFiles.length > 0) throw await damagedFilesError(dir, damagedFiles, ack);
  }

  if (opts.readOnly) return openReadOnly(opts, ackFile, ack);
  const { db, preserved } = await openPreserving(dir, exists, opts.lockWaitMs ?? 0);
  return checkAndWrap(db, opts, ackFile, ack, preserved, null);
}

const COPY_ATTEMPTS = 3;

/**
 * A private copy, checked like the store itself. A daemon starting meanwhile
 * may change the file set while it is copied, making the copy look short:
 * then, and only then, the copy is taken again.
 */
async function openReadOnly(opts: PersistenceOptions, ackFile: string, ack: Acknowledged | null): Promise<WorkspacePersistence> {
  const { copy, value: first } = await openCopy(opts.dir, (copyDir) => openLevel(copyDir, false));
  let db = first;
  for (let attempt = 1; ; attempt++) {
    try {
      return await checkAndWrap(db, opts, ackFile, ack, null, copy, attempt < COPY_ATTEMPTS);
    } catch (e) {
      if (attempt >= COPY_ATTEMPTS || !copy.changedSince()) {
        copy.remove();
        throw renameDir(e, copy.dir, opts.dir);
      }
      copy.retake();
      db = await openLevel(copy.dir, false).catch((err: unknown) => {
        copy.remove();
        throw renameDir(err, copy.dir, opts.dir);
      });
    }
  }
}

/** Checks what LevelDB holds against the acknowledged record and wraps the database; closes it (restoring kept files) on refusal. */
async function checkAndWrap(
  db: StoreDb,
  opts: PersistenceOptions,
  ackFile: string,
  ack: Acknowledged | null,
  preserved: PreservedFiles | null,
  copy: StoreCopy | null,
  keepCopyOnError = false,
): Promise<WorkspacePersistence> {
  const { dir } = opts;
  let kept = preserved;
  try {
    if (!opts.readOnly) await checkFormat(db, dir);
    const position = await readSeqPosition(db, dir);
    const stored = await readWorkspace(db, dir);
    // Damaged records are load()'s to report, by key; the record judges what is left out entirely.
    if (ack !== null && stored.damaged.length === 0) {
      const missing = missingSeqs(ack.seq, stored);
      if (missing.length > 0) throw incompleteError(dir, ack, missing, stored.changes.length);
    }
    kept?.release();
    kept = null;
    if (!opts.readOnly) restrictModes(dir);
    const writer = opts.readOnly ? null : new AcknowledgedWriter(ackFile, ack);
    // A store from before the record existed gets one now, from what it holds.
    if (writer !== null && ack === null && stored.recordedHeads !== null) writer.write(position.lastSeq, stored.recordedHeads);
    const acknowledged: AcknowledgedState | null = ack === null ? null : { file: ackFile, ...ack };
    return new LevelWorkspacePersistence(db, opts, position, { ...stored, acknowledged }, writer, copy);
  } catch (e) {
    await db.close();
    kept?.restore();
    if (copy !== null && !keepCopyOnError) {
      copy.remove();
      throw renameDir(e, copy.dir, dir);
    }
    throw e;
  }
}

const LOCK_RETRY_MS = 100;

/**
 * Opens LevelDB with the files as they were kept aside first (see
 * preserved-files.ts). While another process visibly holds the LOCK nothing is
 * kept yet: that process may still be writing, and a restore must never bring
 * back files from before its writes. So the wait for the LOCK happens here.
 */
async function openPreserving(dir: string, exists: boolean, lockWaitMs: number): Promise<{ db: StoreDb; preserved: PreservedFiles | null }> {
  const deadline = Date.now() + lockWaitMs;
  const wait = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, LOCK_RETRY_MS));
  for (;;) {
    if (exists && Date.now() < deadline && lockHolder(dir) !== undefined) {
      await wait();
      continue;
    }
    const preserved = exists ? preserveFiles(dir) : null;
    try {
      return { db: await openLevel(dir, true), preserved };
    } catch (e) {
      preserved?.release();
      if (lockedStore(e) === undefined || Date.now() >= deadline) throw e;
      await wait();
    }
  }
}

function acknowledgedOrRefuse(file: string, dir: string): Acknowledged | null {
  const read = readAcknowledged(file);
  if (read.state === "none") return null;
  if (read.state === "ok") return read.value;
  throw new StorageError(
    `the record of acknowledged bundles ${file} for the workspace store at ${dir} is damaged (${read.reason}), so nothing vouches that the store is complete; ` +
      `nothing was changed on disk. If the store is known to be good, delete ${file} to accept the store as it is (a new record is written at the next start)`,
    { dir, file, reason: read.reason },
  );
}

function recoverAdvice(): string {
  return "`openprod store recover` keeps what verifies, moves the damaged files aside and syncs the rest from a peer; `openprod store inspect` lists what is recoverable";
}

function storeGoneError(dir: string, file: string, ack: Acknowledged): StorageError {
  return new StorageError(
    `the workspace store at ${dir} is gone (no LevelDB files), but ${file} records ${ack.seq} acknowledged bundle(s): this peer had a workspace. ` +
      `Nothing was created. To rejoin from a peer: \`openprod store recover\` creates the store and syncs every bundle from a peer; ` +
      `to start fresh as an empty workspace instead, delete ${file} and start the daemon again`,
    { dir, file, acknowledged: ack.seq, missing: ack.seq, gone: true },
  );
}

function incompleteError(dir: string, ack: Acknowledged, missing: number[], present: number): StorageError {
  return new StorageError(
    `the workspace store at ${dir} holds less than it acknowledged: ${describeMissing(missing, ack.seq)} are missing from its files ` +
      `(${present} change record(s) are there). The files were left exactly as they were. ${recoverAdvice()}`,
    { dir, acknowledged: ack.seq, missing: missing.length, firstMissing: missing[0], lastMissing: missing[missing.length - 1] },
  );
}

/**
 * LevelDB files fail their checksums: what would be lost is counted on a
 * private copy (LevelDB's recovery, let loose on the copy, keeps what it can
 * read), so the message can say how many acknowledged bundles are at stake.
 */
async function damagedFilesError(dir: string, files: DamagedFile[], ack: Acknowledged | null): Promise<StorageError> {
  const where = files.map((f) => `${f.file} fails its checksum at byte ${f.offset} (${f.reason}; ${f.bytes} byte(s) unreadable)`).join("; ");
  let stake = "";
  let missingCount: number | undefined;
  try {
    const { copy, value: db } = await openCopy(dir, (copyDir) => openLevel(copyDir, false));
    try {
      const salvage = await readWorkspace(db, copy.dir);
      const position = await readSeqPosition(db, copy.dir);
      const upto = Math.max(ack?.seq ?? 0, position.lastSeq);
      const missing = missingSeqs(upto, salvage);
      missingCount = missing.length;
      stake =
        ack === null
          ? ` At least ${missing.length} bundle(s) are unreadable (no acknowledged record to compare with).`
          : ` ${describeMissing(missing, ack.seq)} are in the damaged part.`;
    } finally {
      await db.close();
      copy.remove();
    }
  } catch {
    stake = " How many bundles are affected could not be told (the damaged store cannot be read even leniently).";
  }
  return new StorageError(
    `the workspace store at ${dir} is damaged: ${where}.${stake} Nothing was changed on disk. ${recoverAdvice()}`,
    { dir, levelCode: "LEVEL_CORRUPTION", files, missing: missingCount, acknowledged: ack?.seq },
  );
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
  readonly location: string;
  /** The last seq handed out (durable or still queued). */
  private lastSeq: number;
  /** No change record with a smaller seq is stored; compaction deletes from here. */
  private firstStoredSeq: number;
  /** What open read and checked, handed to the first load() instead of reading it all again. */
  private opened: LoadedState | null;
  private readonly acknowledged: AcknowledgedState | null;
  /** Deleting the change records installed saves replaced (see compact). */
  private clearing: Promise<void> = Promise.resolve();

  constructor(
    private readonly db: StoreDb,
    opts: PersistenceOptions,
    position: SeqPosition,
    loaded: LoadedState,
    private readonly writer: AcknowledgedWriter | null,
    private readonly copy: StoreCopy | null,
  ) {
    this.dir = opts.dir;
    this.location = opts.dir;
    this.queue = new CommitQueue(db, opts.dir, opts.fsync ?? false, (seq, heads) => writer?.write(seq, heads));
    this.lastSeq = position.lastSeq;
    this.firstStoredSeq = position.firstStoredSeq;
    this.opened = loaded;
    this.acknowledged = loaded.acknowledged;
  }

  async load(): Promise<LoadedState> {
    const opened = this.opened;
    this.opened = null;
    if (opened !== null) return opened;
    return { ...(await readWorkspace(this.db, this.dir)), acknowledged: this.acknowledged };
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
    this.opened = null;
    await this.queue.commit(ops, { seq, heads: headsAfter });
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
    // Only when nothing was appended past the snapshot; otherwise the last append's heads stay current.
    if (uptoSeq === this.lastSeq) ops.push({ type: "put", key: HEADS_KEY, value: encodeHeadsRecord(uptoSeq, heads) });
    this.opened = null;
    const from = this.firstStoredSeq;
    await this.queue.commit(ops);
    this.firstStoredSeq = Math.max(this.firstStoredSeq, uptoSeq + 1);
    // From here on every reader skips the change records the save covers (seq <= uptoSeq), so they
    // can go after it, in LevelDB's own thread: thousands of deletes prepared in the save's batch
    // held up the event loop and every append queued behind it. Left behind by a crash, they are
    // skipped at load and deleted by the next compaction (which starts at the first stored seq).
    if (from <= uptoSeq) {
      const range = { gte: changeKey(from), lte: changeKey(uptoSeq) };
      this.clearing = this.clearing.then(() => this.db.clear(range)).catch(() => undefined);
    }
    // Compaction writes new table files; they are the owner's alone like the rest.
    if (this.copy === null) restrictModes(this.dir);
  }

  records(namespace: string): RecordSpace {
    checkNamespace(namespace);
    return createRecordSpace(namespace, { db: this.db, dir: this.dir, write: (w) => this.writeRecords(w) });
  }

  async writeRecords(writes: RecordWrite[]): Promise<void> {
    const ops: WriteOp[] = [];
    pushRecordWrites(ops, writes);
    this.opened = null;
    await this.queue.commit(ops);
  }

  stats(): PersistenceStats {
    return this.queue.stats();
  }

  async close(): Promise<void> {
    await this.queue.close();
    await this.clearing;
    if (this.db.status === "open" || this.db.status === "opening") await this.db.close();
    this.writer?.close();
    if (this.copy === null) restrictModes(this.dir);
    else this.copy.remove();
  }
}

function pushRecordWrites(ops: WriteOp[], writes: RecordWrite[]): void {
  for (const w of writes) {
    checkNamespace(w.namespace);
    const key = recordKey(w.namespace, w.key);
    ops.push(w.value === null ? { type: "del", key } : { type: "put", key, value: encodeSideRecord(w.value) });
  }
}
