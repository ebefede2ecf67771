/**
 * From the document to the disk and out: a bundle's or merge's changes are
 * appended with their side records (conflict records among them) in one
 * atomic write, then peers are told there is something to sync, and change
 * listeners what changed. A failed write stops the store from writing more.
 */
import type { ChangeEvent, ConflictDelta, FieldChange } from "./change-feed.ts";
import { StorageError } from "./errors.ts";
import type { BundleInfo } from "./operations.ts";
import type { LoadedState, RecordWrite } from "./persistence/index.ts";
import { Compaction } from "./store-compaction.ts";
import { announcedConflicts, conflictRecordWrites } from "./store-conflicts.ts";
import type { StoreContext } from "./store-context.ts";
import type { StoreHistory } from "./store-history.ts";

export class Durability {
  /** The seq of the last change made durable. */
  lastSeq = 0;
  private readonly compaction: Compaction;
  private readonly syncListeners = new Set<() => void>();

  constructor(
    private readonly ctx: StoreContext,
    private readonly history: StoreHistory,
    /** Told before every change event: what readers cached about "changed since" is stale. */
    private readonly onAnnounce: () => void,
  ) {
    this.compaction = new Compaction(ctx);
  }

  /** Where the store stood at open: `logged` are the change bytes stored after the snapshot, in seq order. */
  resume(loaded: LoadedState, logged: Uint8Array[], lastSeq: number): void {
    this.lastSeq = lastSeq;
    this.compaction.resume(loaded, logged, lastSeq);
  }

  /** Appends changes already in the document, with `side` records and the conflict records of `delta`; resolves once durable. */
  async persist(changes: { hash: string; bytes: Uint8Array }[], infos: BundleInfo[], delta: ConflictDelta, side: RecordWrite[]): Promise<void> {
    const { be, persistence, status } = this.ctx;
    const heads = be.getHeads();
    // The history's records ride in the bundle's own batch: exactly as durable as the bundle.
    const writes = [...side, ...conflictRecordWrites(delta), ...this.history.add(infos, heads)];
    status.pendingDurable++;
    try {
      this.lastSeq = await persistence.appendChanges(changes, heads, writes);
    } catch (e) {
      throw this.broke(e as Error, "a bundle");
    } finally {
      status.pendingDurable--;
    }
    this.compaction.stored(changes, this.lastSeq);
    // Not awaited: the bundle is durable as its record, and the save is made on another thread.
    // One compaction at a time: every bundle of a group-committed batch sees it due at once.
    if (this.compaction.due()) this.compaction.start();
    for (const l of this.syncListeners) l();
  }

  /**
   * Makes a merge durable as one full save of the document instead of one record per change (see
   * `persistsAsSave` in store-merge.ts). Three writes, queued at once so they land in this order
   * before any later write: the conflict records (harmless alone: reopening drops records the
   * document does not hold), the save, then `side` (the sync state). A crash between them leaves a
   * store that opens and resumes syncing from the sync state it still has.
   */
  async persistAsSave(infos: BundleInfo[], delta: ConflictDelta, side: RecordWrite[]): Promise<void> {
    const { be, persistence, status } = this.ctx;
    status.pendingDurable++;
    try {
      const heads = be.getHeads();
      const records = conflictRecordWrites(delta);
      const written: Promise<unknown>[] = records.length ? [persistence.writeRecords(records)] : [];
      const save = be.save();
      const uptoSeq = this.lastSeq;
      written.push(persistence.compact(save, heads, uptoSeq));
      if (side.length) written.push(persistence.writeRecords(side));
      await Promise.all(written);
      this.compaction.saved(save, uptoSeq);
      // The join's history records follow the save, in bounded batches (see addAfterSave).
      this.history.addAfterSave(infos);
    } catch (e) {
      throw this.broke(e as Error, "a merge");
    } finally {
      status.pendingDurable--;
    }
    for (const l of this.syncListeners) l();
  }

  /** A write that did not become durable: the store refuses further writes, and says where and why. */
  private broke(e: Error, what: string): StorageError {
    const { persistence, status } = this.ctx;
    status.broken = e;
    return new StorageError(`could not make ${what} durable in ${persistence.location}: ${e.message}; the store refuses further writes`, { dir: persistence.location });
  }

  /** The change event for bundles that are durable. */
  announce(origin: "local" | "remote", bundles: BundleInfo[], changes: FieldChange[], delta: ConflictDelta): void {
    this.onAnnounce();
    const { feed, be } = this.ctx;
    if (feed.size === 0) return;
    const event: ChangeEvent = { origin, bundles, changes, heads: be.getHeads(), conflicts: announcedConflicts(delta) };
    feed.publish(event);
  }

  /** Compact now: a full save replaces the incremental change records. */
  compact(): Promise<void> {
    return this.compaction.run();
  }

  /** Resolves once no background compaction is running. */
  compacted(): Promise<void> {
    return this.compaction.idle();
  }

  /** Before the store closes: a join's history records are written, and compaction stops (the log stays as it is). */
  async close(): Promise<void> {
    await this.history.settled();
    await this.compaction.stop();
  }

  /** Called after every durable local bundle and merge (peers push promptly). */
  onSyncableChange(listener: () => void): () => void {
    this.syncListeners.add(listener);
    return () => this.syncListeners.delete(listener);
  }
}
