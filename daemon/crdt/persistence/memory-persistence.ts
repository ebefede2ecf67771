/**
 * The workspace store's persistence kept in memory: for scratch stores
 * (`openprod test`) and tests that need no disk. It keeps the same contract
 * as the LevelDB backend (tests/persistence-contract.test.ts runs both): writes
 * are atomic and resolve in call order, buffers are copied on the way in and
 * out, writes after close are refused. "Durable" here means: kept by the
 * memory space for the next open in this process, nothing more.
 */

import type { LoadedState, OpenPersistence, PersistenceStats, RecordSpace, RecordWrite, StoredChange, WorkspacePersistence } from "./contract.ts";
import { checkNamespace } from "./keys.ts";
import { recordSpaceOver } from "./record-space.ts";
import { InvalidOperation, StorageError } from "../errors.ts";

/** What one memory space holds between opens. */
interface MemorySpace {
  location: string;
  open: boolean;
  lastSeq: number;
  snapshot: { bytes: Uint8Array; heads: string[]; uptoSeq: number } | null;
  /** Seq → change, in seq order (Map keeps insertion order, and seqs only grow). */
  changes: Map<number, StoredChange>;
  recordedHeads: string[] | null;
  /** Namespace → key → value. */
  records: Map<string, Map<string, Uint8Array>>;
}

let spaces = 0;
/** The space behind each opener, for memoryCopy. */
const spaceOf = new WeakMap<OpenPersistence, MemorySpace>();

/**
 * A fresh, empty memory space. Each call of the returned opener opens that same space, so a store
 * can be closed and opened again on it and find what it acknowledged; one open at a time, like the
 * LOCK of a LevelDB directory.
 */
export function memoryPersistence(name = `store-${++spaces}`): OpenPersistence {
  return opener({
    location: `memory:${name}`,
    open: false,
    lastSeq: 0,
    snapshot: null,
    changes: new Map(),
    recordedHeads: null,
    records: new Map(),
  });
}

/**
 * A new memory space holding what `of`'s space holds now: a store opened on it finds every
 * change and side record acknowledged there, and what either space is given later the other
 * never sees. `openprod test` starts each test from a copy of a space a fixture was applied in.
 *
 * @remarks `of` must come from memoryPersistence (or memoryCopy) and must not be open: a copy
 * is taken between writes, never of a store still writing.
 */
export function memoryCopy(of: OpenPersistence, name = `store-${++spaces}`): OpenPersistence {
  const s = spaceOf.get(of);
  if (s === undefined) throw new InvalidOperation("memoryCopy: the persistence is not a memory space", {});
  if (s.open) throw new StorageError(`memoryCopy: the workspace store at ${s.location} is open; close it first`, { dir: s.location });
  // Values are never changed in place (writes replace them, reads copy them): the maps are copied, not the bytes.
  return opener({
    location: `memory:${name}`,
    open: false,
    lastSeq: s.lastSeq,
    snapshot: s.snapshot,
    changes: new Map(s.changes),
    recordedHeads: s.recordedHeads,
    records: new Map([...s.records].map(([ns, m]) => [ns, new Map(m)])),
  });
}

function opener(space: MemorySpace): OpenPersistence {
  const open: OpenPersistence = () => {
    if (space.open) {
      return Promise.reject(
        new StorageError(`the workspace store at ${space.location} is in use: it is already open in this process`, { dir: space.location }),
      );
    }
    space.open = true;
    return Promise.resolve(new MemoryPersistence(space));
  };
  spaceOf.set(open, space);
  return open;
}

const copy = (b: Uint8Array): Uint8Array => new Uint8Array(b);

/** UTF-8 byte order, as LevelDB lists keys (UTF-16 order differs past the BMP). */
function utf8Order(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, "utf8"), Buffer.from(b, "utf8"));
}

class MemoryPersistence implements WorkspacePersistence {
  readonly location: string;
  private closed = false;
  private readonly counters: PersistenceStats = { batches: 0, syncedBatches: 0, commits: 0 };
  /** Writes resolve in call order: each waits for the one before. */
  private tail: Promise<void> = Promise.resolve();

  constructor(private readonly space: MemorySpace) {
    this.location = space.location;
  }

  load(): Promise<LoadedState> {
    const s = this.space;
    return Promise.resolve({
      snapshot: s.snapshot === null ? null : { bytes: copy(s.snapshot.bytes), heads: [...s.snapshot.heads], uptoSeq: s.snapshot.uptoSeq },
      changes: [...s.changes.values()].map((c) => ({ seq: c.seq, hash: c.hash, bytes: copy(c.bytes) })),
      recordedHeads: s.recordedHeads === null ? null : [...s.recordedHeads],
      damaged: [],
      acknowledged: null,
    });
  }

  async appendChanges(changes: { hash: string; bytes: Uint8Array }[], headsAfter: string[], side?: RecordWrite[]): Promise<number> {
    // Everything is checked and copied before anything changes, so a refused call leaves no trace (and no seq gap).
    const writes = this.prepare(side ?? []);
    const s = this.space;
    const stored: StoredChange[] = changes.map((c, i) => ({ seq: s.lastSeq + 1 + i, hash: c.hash, bytes: copy(c.bytes) }));
    const heads = [...headsAfter];
    const seq = s.lastSeq + stored.length;
    s.lastSeq = seq;
    await this.commit(() => {
      for (const c of stored) s.changes.set(c.seq, c);
      s.recordedHeads = heads;
      this.apply(writes);
    });
    return seq;
  }

  compact(snapshot: Uint8Array, heads: string[], uptoSeq: number): Promise<void> {
    const s = this.space;
    if (!Number.isSafeInteger(uptoSeq) || uptoSeq < 0 || uptoSeq > s.lastSeq) {
      return Promise.reject(
        new InvalidOperation(`compact: uptoSeq ${uptoSeq} is not a seq of this store (changes are numbered 1..${s.lastSeq})`, {
          uptoSeq,
          lastSeq: s.lastSeq,
        }),
      );
    }
    if (this.closed) return this.refuse();
    const saved = { bytes: copy(snapshot), heads: [...heads], uptoSeq };
    const current = uptoSeq === s.lastSeq;
    return this.commit(() => {
      s.snapshot = saved;
      for (const seq of [...s.changes.keys()]) if (seq <= uptoSeq) s.changes.delete(seq);
      // Only when nothing was appended past the snapshot; otherwise the last append's heads stay current.
      if (current) s.recordedHeads = [...heads];
    });
  }

  records(namespace: string): RecordSpace {
    checkNamespace(namespace);
    const s = this.space;
    return recordSpaceOver(namespace, {
      location: this.location,
      write: (w) => this.writeRecords(w),
      get: (key) => {
        const v = s.records.get(namespace)?.get(key);
        return Promise.resolve(v === undefined ? undefined : copy(v));
      },
      async *list(prefix, opts) {
        const ns = s.records.get(namespace);
        if (ns === undefined) return;
        const keys = [...ns.keys()].filter((k) => k.startsWith(prefix)).sort(utf8Order);
        if (opts.reverse) keys.reverse();
        let left = opts.limit ?? Infinity;
        for (const k of keys) {
          if (left-- <= 0) return;
          const v = ns.get(k);
          if (v !== undefined) yield [k, copy(v)];
        }
      },
      async *keys(prefix) {
        const ns = s.records.get(namespace);
        if (ns === undefined) return;
        yield* [...ns.keys()].filter((k) => k.startsWith(prefix)).sort(utf8Order);
      },
    });
  }

  async writeRecords(writes: RecordWrite[]): Promise<void> {
    const prepared = this.prepare(writes);
    await this.commit(() => this.apply(prepared));
  }

  stats(): PersistenceStats {
    return { ...this.counters };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.tail;
    this.space.open = false;
  }

  /** Checks namespaces and copies values; throws before anything is stored. */
  private prepare(writes: RecordWrite[]): RecordWrite[] {
    if (this.closed) throw this.closedError();
    return writes.map((w) => {
      checkNamespace(w.namespace);
      return { namespace: w.namespace, key: w.key, value: w.value === null ? null : copy(w.value) };
    });
  }

  private apply(writes: RecordWrite[]): void {
    const all = this.space.records;
    for (const w of writes) {
      let ns = all.get(w.namespace);
      if (ns === undefined) all.set(w.namespace, (ns = new Map()));
      if (w.value === null) ns.delete(w.key);
      else ns.set(w.key, w.value);
    }
  }

  /** Applies `change` after every earlier write, as one batch. */
  private commit(change: () => void): Promise<void> {
    if (this.closed) return this.refuse();
    const done = this.tail.then(() => {
      change();
      this.counters.batches++;
      this.counters.commits++;
    });
    this.tail = done;
    return done;
  }

  private closedError(): StorageError {
    return new StorageError(`the workspace store at ${this.location} is closed`, { dir: this.location });
  }

  private refuse(): Promise<never> {
    return Promise.reject(this.closedError());
  }
}
