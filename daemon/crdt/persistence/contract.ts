/**
 * The seam between the workspace store and its durable storage. The store
 * hands over opaque Automerge change bytes and side records; this side knows
 * nothing about Automerge and only promises ordering, atomicity and durability.
 * Two backends keep it: LevelDB on disk (workspace-persistence.ts) and memory
 * (memory-persistence.ts); tests/persistence-contract.test.ts holds both to it.
 */

/**
 * Opens a backend. The store calls it once in `WorkspaceStore.open` and owns what it returns
 * (closes it on close, or when open fails).
 */
export type OpenPersistence = () => Promise<WorkspacePersistence>;

export interface PersistenceOptions {
  /** LevelDB directory, created (with its parents) if missing. */
  dir: string;
  /** `[store] fsync = true` in openprod.toml: every acknowledged write survives power loss, not only a crash (default false). */
  fsync?: boolean;
  /**
   * The independent record of the last acknowledged seq and heads (default `<dir>/ACKNOWLEDGED`).
   *
   * @remarks Kept outside `dir` by the daemon, so that a store whose files were all deleted is noticed
   * too. Open refuses (StorageError, files left as they were) a store that holds less than it records.
   */
  acknowledgedFile?: string;
  /**
   * Work on a private copy of `dir`: its files are never changed and its LOCK is not taken, so a daemon
   * can start meanwhile. Writes land in the copy and vanish at close. Errors name `dir`, not the copy.
   */
  readOnly?: boolean;
  /** How long open waits for another process to release the store's LOCK before failing (default 0). */
  lockWaitMs?: number;
}

export interface StoredChange {
  seq: number;
  hash: string;
  bytes: Uint8Array;
}

export interface DamagedRecord {
  /** The LevelDB key of the record, as stored. */
  key: string;
  /** What is wrong, in words a technician can act on. */
  reason: string;
  /** For a change record: its sequence number (taken from the key). */
  seq?: number;
  /** For a change record: the hash as stored, when it could be read (it is not verified). */
  hash?: string;
}

export interface LoadedState {
  snapshot: { bytes: Uint8Array; heads: string[]; uptoSeq: number } | null;
  /** Changes appended after the snapshot, in append order. */
  changes: StoredChange[];
  /** Heads recorded by the last append/compaction (null on a fresh or damaged store). */
  recordedHeads: string[] | null;
  /** Records that fail their checksum or cannot be decoded; they are left in place, never repaired. */
  damaged: DamagedRecord[];
  /** The acknowledged record the store was checked against at open; null when there was none yet. */
  acknowledged: AcknowledgedState | null;
}

export interface AcknowledgedState {
  /** The record's file. */
  file: string;
  /** The last seq acknowledged. */
  seq: number;
  heads: string[];
}

/** A LevelDB file (write-ahead log or MANIFEST) whose own checksums fail. */
export interface DamagedFile {
  /** Absolute path of the file in the store (never a copy's). */
  file: string;
  /** Byte offset of the first record that does not verify. */
  offset: number;
  /** Bytes LevelDB's recovery would throw away. */
  bytes: number;
  reason: string;
}

/** A side-record write; `value: null` deletes the key. */
export interface RecordWrite {
  namespace: string;
  key: string;
  value: Uint8Array | null;
}

export interface PersistenceStats {
  /** LevelDB batches written (each append, record write or compaction lands in exactly one). */
  batches: number;
  /** Of those, batches written with fsync. */
  syncedBatches: number;
  /** appendChanges/writeRecords/compact calls that have become durable. */
  commits: number;
}

export interface WorkspacePersistence {
  /** Where the data lives, as messages name it: the LevelDB directory, or `memory:<name>`. */
  readonly location: string;
  /** What is stored. Repeatable: each call reads what every resolved write left. */
  load(): Promise<LoadedState>;
  /**
   * Append the changes of one bundle (or one merge) plus side records, atomically (one LevelDB batch).
   *
   * @remarks Resolves once durable: without fsync the data has reached the OS (survives the process
   * being killed); with fsync it is on disk. Appends (and every other write) resolve in call order.
   * Writes arriving while a batch is in flight are grouped into the next single batch (group commit),
   * so N concurrent writers cost far fewer than N syncs. The change bytes are copied before this
   * returns: the caller may reuse its buffers at once.
   */
  appendChanges(
    changes: { hash: string; bytes: Uint8Array }[],
    headsAfter: string[],
    side?: RecordWrite[],
  ): Promise<number>;
  /**
   * Atomically install a full save covering every change with seq <= uptoSeq and drop those
   * change records. Crash-safe at any point: either the old or the new state is found on reopen.
   * Once it resolves, no read returns those change records (a backend may delete them later).
   *
   * @remarks The snapshot buffer is handed to LevelDB without a copy: do not mutate it until the
   * promise settles.
   */
  compact(snapshot: Uint8Array, heads: string[], uptoSeq: number): Promise<void>;
  /** Side records in the same database: sync states, overlays, run records, HLC, conflicts, peer data... */
  records(namespace: string): RecordSpace;
  /** Write side records atomically (durable like appendChanges, ordered with it). */
  writeRecords(writes: RecordWrite[]): Promise<void>;
  /** Counters for tests and benchmarks. */
  stats(): PersistenceStats;
  /**
   * Waits for every accepted write to become durable, then closes the database.
   *
   * @remarks Every write called after close rejects with StorageError (naming the location), and
   * nothing of it is stored.
   */
  close(): Promise<void>;
}

export interface RecordSpace {
  get(key: string): Promise<Uint8Array | undefined>;
  getJson<T>(key: string): Promise<T | undefined>;
  put(key: string, value: Uint8Array): Promise<void>;
  putJson(key: string, value: unknown): Promise<void>;
  del(key: string): Promise<void>;
  /**
   * Records whose key starts with `prefix` (all when omitted), in key order (UTF-8 byte order).
   *
   * @remarks With `reverse` the order is the opposite (greatest key first) and `limit` stops after
   * that many: the newest N of a space keyed by time are one bounded read, whatever its size.
   */
  list(prefix?: string, opts?: ListOptions): AsyncIterable<[key: string, value: Uint8Array]>;
  /**
   * The keys alone, in key order, values never read nor checked: what a caller needs to delete a
   * range even where some values are damaged.
   */
  keys(prefix?: string): AsyncIterable<string>;
}

/** How `RecordSpace.list` walks a prefix. */
export interface ListOptions {
  /** Greatest key first. */
  reverse?: boolean;
  /** At most this many records. */
  limit?: number;
}

/** What `openprod` shows about a store without touching it. */
export interface StorageReport {
  dir: string;
  snapshot: { uptoSeq: number; heads: string[]; size: number } | null;
  /** Intact change records after the snapshot: the bundles that can be recovered from this store. */
  changes: { seq: number; hash: string; size: number }[];
  recordedHeads: string[] | null;
  namespaces: { namespace: string; records: number; size: number }[];
  damaged: DamagedRecord[];
  /** LevelDB files that fail their checksums; the report's records are what LevelDB could still read. */
  damagedFiles: DamagedFile[];
  /** The acknowledged record, with the acknowledged seqs this store cannot give back. */
  acknowledged: (AcknowledgedState & { missing: number[] }) | null;
}
