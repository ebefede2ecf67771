/**
 * Group commit: one LevelDB batch in flight at a time; every write that
 * arrives meanwhile joins the next batch. This gives two guarantees the store
 * relies on: writes become durable (and resolve) in call order, so the heads
 * record always ends up reflecting the last append; and with fsync, N
 * concurrent writers cost one sync per batch instead of N.
 */

import type { StoreDb } from "./open-level.ts";
import type { PersistenceStats } from "./contract.ts";
import { ioError } from "./open-level.ts";
import { StorageError } from "../errors.ts";

export type WriteOp = { type: "put"; key: string; value: Uint8Array } | { type: "del"; key: string };

interface Waiter {
  resolve: () => void;
  reject: (e: unknown) => void;
  /** The seq and heads this write leaves the store at, for the acknowledged record. */
  ack?: { seq: number; heads: string[] };
}

/** Told, before a batch's writers are resolved, what the batch acknowledged. */
export type OnDurable = (seq: number, heads: string[]) => void;

const SYNC = { sync: true } as const;
const NO_SYNC = { sync: false } as const;

export class CommitQueue {
  private nextOps: WriteOp[] = [];
  private nextWaiters: Waiter[] = [];
  private inFlight = false;
  private drained: (() => void)[] = [];
  private closed = false;
  private readonly counters: PersistenceStats = { batches: 0, syncedBatches: 0, commits: 0 };

  constructor(
    private readonly db: StoreDb,
    private readonly dir: string,
    private readonly fsync: boolean,
    private readonly onDurable: OnDurable = () => undefined,
  ) {}

  /** Queues `ops` as one atomic unit; resolves when the batch holding them is durable. */
  commit(ops: WriteOp[], ack?: { seq: number; heads: string[] }): Promise<void> {
    if (this.closed) {
      return Promise.reject(new StorageError(`the workspace store at ${this.dir} is closed`, { dir: this.dir }));
    }
    return new Promise<void>((resolve, reject) => {
      // Appending to the pending batch keeps each caller's ops contiguous and in call order.
      for (let i = 0; i < ops.length; i++) this.nextOps.push(ops[i]);
      this.nextWaiters.push({ resolve, reject, ack });
      if (!this.inFlight) this.flush();
    });
  }

  stats(): PersistenceStats {
    return { ...this.counters };
  }

  /** Refuses new writes and resolves once everything accepted is durable. */
  close(): Promise<void> {
    this.closed = true;
    if (!this.inFlight) return Promise.resolve();
    return new Promise((resolve) => this.drained.push(resolve));
  }

  private flush(): void {
    const ops = this.nextOps;
    const waiters = this.nextWaiters;
    this.nextOps = [];
    this.nextWaiters = [];
    this.inFlight = true;
    this.db.batch(ops, this.fsync ? SYNC : NO_SYNC).then(
      () => {
        this.counters.batches++;
        if (this.fsync) this.counters.syncedBatches++;
        // Recorded before anyone hears "durable", so the record always covers every acknowledgement.
        let last: { seq: number; heads: string[] } | undefined;
        for (const w of waiters) if (w.ack !== undefined) last = w.ack;
        if (last !== undefined) {
          try {
            this.onDurable(last.seq, last.heads);
          } catch (e) {
            const err = ioError(this.dir, "recording the acknowledged heads", e);
            for (const w of waiters) w.reject(err);
            this.next();
            return;
          }
        }
        this.counters.commits += waiters.length;
        for (const w of waiters) w.resolve();
        this.next();
      },
      (e: unknown) => {
        const err = ioError(this.dir, `writing a batch of ${ops.length} records`, e);
        for (const w of waiters) w.reject(err);
        this.next();
      },
    );
  }

  private next(): void {
    if (this.nextWaiters.length > 0) {
      this.flush();
      return;
    }
    this.inFlight = false;
    const drained = this.drained;
    this.drained = [];
    for (const d of drained) d();
  }
}
