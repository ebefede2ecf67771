/**
 * What the parts of the workspace store share: the document and its backend, the indexes,
 * the conflict tracker, the persistence, the clock, the write lock and whether the store can
 * still write. Built once at open (store-open.ts); each part takes only this.
 */
import type { Backend, Heads } from "./automerge-backend.ts";
import { ChangeFeed } from "./change-feed.ts";
import { ChangeLocator } from "./change-locator.ts";
import { ConflictTracker } from "./conflicts.ts";
import { StorageError } from "./errors.ts";
import type { HybridLogicalClock } from "./hlc.ts";
import { createIdGenerator } from "./ids.ts";
import type { IdGenerator } from "./ids.ts";
import { WorkspaceIndexes } from "./indexes.ts";
import { K_MERGED_INTO } from "./layout.ts";
import type { WorkspacePersistence } from "./persistence/index.ts";
import type { Schema } from "./schema.ts";
import type { StoreOptions } from "./store-types.ts";
import { WorkspaceDoc } from "./workspace-doc.ts";

/** Side-record namespaces the store itself keeps. */
export const NS_META = "meta";
export const NS_SYNC = "sync";
export const NS_CONFLICTS = "conflicts";
/** Key (in NS_META) of the indexes saved at the last compaction. */
export const INDEX_SNAPSHOT = "index-snapshot";
/** Key (in NS_META) of the clock's last HLC, saved at close. */
export const LAST_HLC = "hlc";

export const enc = new TextEncoder();
export const dec = new TextDecoder();

/** Whether the store may still write, and how many writes are between the document and the disk. */
export class StoreStatus {
  closed = false;
  broken: Error | null = null;
  /** Writes in the document not yet durable: sync must not advertise heads while this is above 0. */
  pendingDurable = 0;

  assertWritable(): void {
    if (this.closed) throw new StorageError("the workspace store is closed", {});
    if (this.broken) throw new StorageError(`the workspace store stopped after a storage failure: ${this.broken.message}`, {});
  }
}

/**
 * Writers take turns: each holds the lock while it changes the document and
 * queues its write, and lets go before waiting for the disk, so concurrent
 * bundles still share one sync. The returned function releases (idempotent).
 */
export class WriteLock {
  private tail: Promise<void> = Promise.resolve();

  acquire(): Promise<() => void> {
    let releaseNext!: () => void;
    const next = new Promise<void>((resolve) => (releaseNext = resolve));
    const acquired = this.tail.then(() => {
      let released = false;
      return () => {
        if (released) return;
        released = true;
        releaseNext();
      };
    });
    this.tail = this.tail.then(() => next);
    return acquired;
  }
}

export interface StoreContext {
  readonly be: Backend;
  readonly doc: WorkspaceDoc;
  readonly schema: Schema;
  readonly indexes: WorkspaceIndexes;
  readonly tracker: ConflictTracker;
  readonly locator: ChangeLocator;
  readonly feed: ChangeFeed;
  readonly persistence: WorkspacePersistence;
  readonly hlc: HybridLogicalClock;
  readonly newId: IdGenerator;
  readonly now: () => number;
  readonly random: () => number;
  readonly peerId: string;
  readonly workspaceId: string;
  readonly compactEvery: number;
  readonly status: StoreStatus;
  readonly lock: WriteLock;
}

export function createStoreContext(be: Backend, persistence: WorkspacePersistence, hlc: HybridLogicalClock, opts: Omit<StoreOptions, "persistence">): StoreContext {
  const now = opts.now ?? Date.now;
  const random = opts.random ?? Math.random;
  const doc = new WorkspaceDoc(be, opts.schema);
  const locator = new ChangeLocator(be);
  const tracker = new ConflictTracker(be, opts.schema, locator, (id) => {
    try {
      return doc.live(id);
    } catch {
      return null;
    }
  });
  doc.provisionalMerge = (id) => {
    const p = tracker.provisional("entity", id, K_MERGED_INTO);
    return typeof p === "string" ? p : undefined;
  };
  return {
    be,
    doc,
    schema: opts.schema,
    indexes: new WorkspaceIndexes(),
    tracker,
    locator,
    feed: new ChangeFeed(),
    persistence,
    hlc,
    newId: opts.newId ?? createIdGenerator(now, random),
    now,
    random,
    peerId: opts.peerId,
    workspaceId: opts.workspaceId,
    compactEvery: opts.compactEvery ?? 10_000,
    status: new StoreStatus(),
    lock: new WriteLock(),
  };
}

/** Equal as sets (heads come in no particular order). */
export function headsEqual(a: Heads, b: Heads): boolean {
  if (a.length !== b.length) return false;
  const sa = [...a].sort();
  const sb = [...b].sort();
  return sa.every((h, i) => h === sb[i]);
}
