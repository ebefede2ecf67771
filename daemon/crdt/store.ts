/**
 * The workspace store: one Automerge document per workspace, durable through
 * an injected persistence backend, with in-memory indexes, a change feed,
 * history, conflicts and Automerge sync sessions for peers. Every write is a
 * bundle: one Automerge change, durable before the call that made it returns.
 *
 * This class is the facade; each job is a module of its own: store-open.ts
 * (persistence wiring), store-reads.ts (document access), store-writes.ts
 * (bundle writing), store-merge.ts (merge intake), store-conflicts.ts
 * (conflict tracking), store-history.ts, store-compaction.ts and
 * store-durability.ts (from the document to the disk and the change feed).
 */
import type { Heads } from "./automerge-backend.ts";
import type { ChangeListener } from "./change-feed.ts";
import type { BulkConflict, ConflictRecord } from "./conflicts.ts";
import { EntityNotFound } from "./errors.ts";
import type { BundleChanges } from "./bundle-changes.ts";
import type { WriteGate } from "./op-writes.ts";
import type { BundleInput, FieldValue, Operation } from "./operations.ts";
import type { OverlayDocument } from "./overlay-document.ts";
import type { RecordSpace, RecordWrite } from "./persistence/index.ts";
import type { QuerySource } from "./query/index.ts";
import type { FieldDef, Schema } from "./schema.ts";
import { bulkResolution } from "./store-conflicts.ts";
import type { StoreContext } from "./store-context.ts";
import { Durability } from "./store-durability.ts";
import { StoreHistory } from "./store-history.ts";
import { MergeIntake } from "./store-merge.ts";
import { closeStore, openStore } from "./store-open.ts";
import { DocumentReads } from "./store-reads.ts";
import type { BundleResult, EntityView, HistoryEntry, ReadOptions, StoreOptions, SyncSession } from "./store-types.ts";
import { BundleWriter } from "./store-writes.ts";
import type { WorkspaceIndexes } from "./indexes.ts";
import type { EdgeState } from "./workspace-doc.ts";

export type { StoreOptions, BundleResult, EntityView, ReadOptions, HistoryEntry, SyncSession } from "./store-types.ts";
export { headsEqual } from "./store-context.ts";

export class WorkspaceStore {
  readonly schema: Schema;
  readonly indexes: WorkspaceIndexes;
  private readonly reads: DocumentReads;
  private readonly writes: BundleWriter;
  private readonly merges: MergeIntake;
  private readonly historyOf: StoreHistory;
  private readonly durability: Durability;

  private constructor(private readonly ctx: StoreContext) {
    this.schema = ctx.schema;
    this.indexes = ctx.indexes;
    this.reads = new DocumentReads(ctx);
    this.historyOf = new StoreHistory(ctx);
    this.durability = new Durability(ctx, this.historyOf, () => this.reads.forgetChanged());
    this.merges = new MergeIntake(ctx, this.durability);
    this.writes = new BundleWriter(ctx, this.durability, (heads) => this.reads.changedEdgesSince(heads));
  }

  // ------------------------------------------------------------ lifecycle

  static async open(opts: StoreOptions): Promise<WorkspaceStore> {
    const { ctx, loaded, logged, lastSeq } = await openStore(opts);
    const store = new WorkspaceStore(ctx);
    store.durability.resume(loaded, logged, lastSeq);
    try {
      await store.historyOf.open();
    } catch (e) {
      await closeStore(ctx).catch(() => undefined);
      throw e;
    }
    return store;
  }

  async close(): Promise<void> {
    if (this.ctx.status.closed) return;
    this.ctx.status.closed = true;
    await this.durability.close();
    await closeStore(this.ctx);
  }

  // --------------------------------------------------------------- writes

  /**
   * Apply operations as one bundle; durable when the promise resolves.
   * `records` are side records written in the same atomic write as the bundle
   * (e.g. a committed session's overlay removed exactly when its bundle lands).
   */
  apply(ops: Operation[], input: BundleInput, opts: { records?: RecordWrite[]; gate?: WriteGate } = {}): Promise<BundleResult> {
    return this.writes.apply(ops, input, opts);
  }

  resolveConflict(conflictId: string, value: FieldValue, input: BundleInput): Promise<BundleResult> {
    return this.apply([{ op: "ResolveConflict", conflictId, value }], input);
  }

  /**
   * Resolve every conflict of a bulk conflict in one bundle, keeping the
   * values of one side: "ours" (this peer's change set), "theirs" (the other),
   * or a change set id from `bulkConflicts()[i].sides`.
   */
  async resolveBulk(bulkId: string, keep: string, input: BundleInput): Promise<BundleResult> {
    return this.apply(bulkResolution(this.ctx.tracker, this.ctx.peerId, bulkId, keep), input);
  }

  /**
   * A fresh session overlay over this workspace: operations on it run through the same
   * interpreter as bundles, over canonical at whatever heads the caller reads at.
   */
  overlayDocument(): OverlayDocument {
    return this.writes.overlayDocument();
  }

  // ---------------------------------------------------------------- reads

  heads(): Heads {
    return this.ctx.be.getHeads();
  }

  hasHeads(heads: Heads): boolean {
    return this.ctx.be.getMissingDeps(heads).length === 0;
  }

  /** The live entity (following merge redirects), with its fields. */
  getEntity(id: string, opts: ReadOptions = {}): EntityView {
    return this.reads.getEntity(id, opts);
  }

  entityExists(id: string, opts: ReadOptions = {}): boolean {
    return this.reads.entityExists(id, opts);
  }

  /** Facets an entity carries (after following merges). */
  facetsOf(id: string, opts: ReadOptions = {}): string[] {
    return this.reads.facetsOf(id, opts);
  }

  /** One field by any addressing form; nil (null) when unset. */
  getField(id: string, name: string, opts: ReadOptions = {}): FieldValue {
    return this.reads.getField(id, name, opts);
  }

  resolveField(name: string, facets?: Iterable<string>): FieldDef {
    return this.schema.resolveField(name, facets);
  }

  /** Entity ids matching a query, in result order. */
  queryIds(query: string, params: readonly unknown[] = [], opts: ReadOptions = {}): string[] {
    return this.reads.queryIds(query, params, opts);
  }

  query(query: string, params: readonly unknown[] = [], opts: ReadOptions = {}): EntityView[] {
    return this.queryIds(query, params, opts).map((id) => this.getEntity(id, opts));
  }

  /**
   * The query language's view of the workspace at `heads` (default: now).
   * Session overlays wrap it to layer their uncommitted ops over canonical.
   */
  querySource(heads?: Heads): QuerySource {
    return this.reads.querySource(heads);
  }

  edge(id: string, opts: ReadOptions = {}): EdgeState | null {
    return this.reads.edge(id, opts);
  }

  /** Live edges touching an entity, optionally of one type and direction. */
  edgesOf(entity: string, opts: ReadOptions & { type?: string; direction?: "out" | "in" | "both" } = {}): EdgeState[] {
    return this.reads.edgesOf(entity, opts);
  }

  /** Ordered edges pointing at `target` with `type`, in position order (ties by edge id). */
  orderedEdges(target: string, type: string, opts: ReadOptions = {}): EdgeState[] {
    return this.reads.orderedEdges(target, type, opts);
  }

  conflicts(): ConflictRecord[] {
    return this.ctx.tracker.list();
  }

  conflict(id: string): ConflictRecord | undefined {
    return this.ctx.tracker.get(id);
  }

  bulkConflicts(): BulkConflict[] {
    return this.ctx.tracker.bulkConflicts();
  }

  /** Bundles newest first, optionally only those that touched an entity: a bounded read of the history's records. */
  history(opts: { entity?: string; limit?: number } = {}): Promise<HistoryEntry[]> {
    return this.historyOf.list(opts.entity, opts.limit ?? 100);
  }

  /** How many bundles the workspace's history holds: equal on peers with equal heads (unlike storage counters). */
  bundleCount(): number {
    return this.historyOf.size;
  }

  /** What a bundle of the history changed (field old → new, created, deleted...), at most `limit` changes listed. */
  bundleChanges(hash: string, limit = 50): BundleChanges {
    return this.historyOf.changes(hash, limit);
  }

  onChange(listener: ChangeListener): () => void {
    return this.ctx.feed.subscribe(listener);
  }

  get workspaceId(): string {
    return this.ctx.workspaceId;
  }

  get peerId(): string {
    return this.ctx.peerId;
  }

  /** Current HLC time (ticks the clock). */
  hlcNow(): string {
    return this.ctx.hlc.tick();
  }

  newEntityId(): string {
    return this.ctx.newId();
  }

  /** Side records (overlays, run records...) kept in the store's database. */
  records(namespace: string): RecordSpace {
    return this.ctx.persistence.records(namespace);
  }

  writeRecords(writes: RecordWrite[]): Promise<void> {
    return this.ctx.persistence.writeRecords(writes);
  }

  stats(): { entities: number; heads: Heads; conflicts: number; changes: number } {
    const { be, doc, tracker } = this.ctx;
    return { entities: be.length(doc.entities), heads: this.heads(), conflicts: tracker.size, changes: this.durability.lastSeq };
  }

  // ----------------------------------------------------------------- sync

  /** Start or resume Automerge sync with a peer; its sync state is persisted. */
  openSyncSession(peerId: string): Promise<SyncSession> {
    return this.merges.openSyncSession(peerId);
  }

  /** Called after every durable local bundle and merge (peers push promptly). */
  onSyncableChange(listener: () => void): () => void {
    return this.durability.onSyncableChange(listener);
  }

  /** Compact now: a full save replaces the incremental change records. */
  compact(): Promise<void> {
    return this.durability.compact();
  }

  /** Resolves once the compaction running in the background (after `compact_every` bundles), if any, has finished. */
  compacted(): Promise<void> {
    return this.durability.compacted();
  }
}

export { EntityNotFound };
