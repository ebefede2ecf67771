/**
 * The workspace store: one Automerge document per workspace, durable in
 * LevelDB, with in-memory indexes, a change feed, history, conflicts and
 * Automerge sync sessions for peers. Every write is a bundle: one Automerge
 * change, durable before the call that made it returns.
 */
import { randomBytes } from "node:crypto";
import { api, createBackend, loadBackend } from "./automerge-backend.ts";
import type { Backend, Heads, WasmSyncState } from "./automerge-backend.ts";
import { applyOperation, bundleEdges } from "./apply-ops.ts";
import { OverlayDocument } from "./overlay-document.ts";
import type { WriteGate } from "./op-writes.ts";
import type { ConflictTarget, OpContext, OpResult } from "./apply-ops.ts";
import { ChangeFeed } from "./change-feed.ts";
import type { ChangeEvent, ChangeListener, FieldChange } from "./change-feed.ts";
import { ChangeLocator, parseBundleMeta } from "./change-locator.ts";
import { ConflictTracker } from "./conflicts.ts";
import type { BulkConflict, ConflictLocation, ConflictRecord } from "./conflicts.ts";
import { EntityNotFound, InvalidOperation, StorageError } from "./errors.ts";
import { genesisChange } from "./genesis.ts";
import { HybridLogicalClock } from "./hlc.ts";
import { createIdGenerator } from "./ids.ts";
import type { IdGenerator } from "./ids.ts";
import { WorkspaceIndexes } from "./indexes.ts";
import type { IndexState } from "./indexes.ts";
import { EDGES, ENTITIES, K_DELETED, K_MERGED_INTO, TABLE_PREFIX } from "./layout.ts";
import type { BundleInfo, BundleInput, BundleMeta, FieldValue, Operation } from "./operations.ts";
import { HistoryIndex } from "./history-index.ts";
import { bundleChanges } from "./bundle-changes.ts";
import type { BundleChanges } from "./bundle-changes.ts";
import { digestPatches } from "./patch-events.ts";
import { openPersistence } from "./persistence/index.ts";
import type { RecordWrite, WorkspacePersistence } from "./persistence/index.ts";
import { executeQuery, parseQuery } from "./query/index.ts";
import type { QuerySource, ScalarValue } from "./query/index.ts";
import type { FieldDef, Schema } from "./schema.ts";
import { WorkspaceDoc } from "./workspace-doc.ts";
import type { EdgeState, EntityState } from "./workspace-doc.ts";

export interface StoreOptions {
  /** LevelDB directory (`<show>/.openprod/store`). */
  dir: string;
  schema: Schema;
  workspaceId: string;
  /** This peer's id (libp2p peer id or a configured name); stamped on every bundle. */
  peerId: string;
  /** Sync every bundle to disk (survives power loss). */
  fsync?: boolean;
  /** The independent record of what was acknowledged (see PersistenceOptions); the daemon keeps it beside `dir`. */
  acknowledgedFile?: string;
  /** Read a private copy: `dir`'s files are never changed and its LOCK is not taken (offline CLI reads). */
  readOnly?: boolean;
  /** How long to wait for another process to let go of the store (default 0). */
  lockWaitMs?: number;
  /**
   * Least bundles between compactions (full save + dropping incremental entries). A compaction
   * also waits until the changes stored since the last one are as big as its save, so that the
   * saves, whose cost grows with the history, cost each bundle the same however long the history.
   */
  compactEvery?: number;
  now?: () => number;
  random?: () => number;
}

export interface BundleResult {
  /** Null when the bundle changed nothing (e.g. a field set to the value it already had). */
  hash: string | null;
  hlc: string;
  results: OpResult[];
  changes: FieldChange[];
}

export interface CommitAtResult extends BundleResult {
  /** Conflicts opened because canonical changed the same keys since `heads`. */
  conflicts: ConflictRecord[];
}

export interface EntityView extends EntityState {
  fields: Record<string, FieldValue>;
}

export interface ReadOptions {
  /** Read as of these heads (a point in history); default: now. */
  heads?: Heads;
}

export type HistoryEntry = BundleInfo;

export interface SyncSession {
  generateMessage(): Uint8Array | null;
  receiveMessage(msg: Uint8Array): Promise<void>;
  close(): Promise<void>;
}

const ENTITY_CAP = 1000;
/** Entities digested between two turns of the event loop when a merge is absorbed. */
const DIGEST_SLICE = 2000;
const INDEX_SNAPSHOT = "index-snapshot";

interface IndexSnapshot {
  v: 1;
  heads: Heads;
  state: IndexState;
}
const NS_META = "meta";
const NS_SYNC = "sync";
const NS_CONFLICTS = "conflicts";
const enc = new TextEncoder();
const dec = new TextDecoder();

export class WorkspaceStore {
  readonly schema: Schema;
  readonly indexes = new WorkspaceIndexes();
  private readonly feed = new ChangeFeed();
  private readonly doc: WorkspaceDoc;
  private readonly locator: ChangeLocator;
  private readonly conflictTracker: ConflictTracker;
  private readonly newId: IdGenerator;
  private readonly random: () => number;
  private readonly now: () => number;
  private readonly changedSinceCache = new Map<string, Set<string>>();
  private readonly syncListeners = new Set<() => void>();
  private historyIndex: HistoryIndex | null = null;
  private pendingDurable = 0;
  private lockTail: Promise<void> = Promise.resolve();
  private bundlesSinceCompaction = 0;
  /** Bytes of change records stored since the last compaction, and the size of its full save. */
  private bytesSinceCompaction = 0;
  private lastSaveBytes = 0;
  private lastSeq = 0;
  private broken: Error | null = null;
  private closed = false;

  private constructor(
    private readonly be: Backend,
    private readonly persistence: WorkspacePersistence,
    private readonly hlc: HybridLogicalClock,
    private readonly opts: StoreOptions,
  ) {
    this.schema = opts.schema;
    this.now = opts.now ?? Date.now;
    this.random = opts.random ?? Math.random;
    this.newId = createIdGenerator(this.now, this.random);
    this.doc = new WorkspaceDoc(be, opts.schema);
    this.doc.provisionalMerge = (id) => {
      const p = this.conflictTracker.provisional("entity", id, K_MERGED_INTO);
      return typeof p === "string" ? p : undefined;
    };
    this.locator = new ChangeLocator(be);
    this.conflictTracker = new ConflictTracker(be, opts.schema, this.locator, (id) => {
      try {
        return this.doc.live(id);
      } catch {
        return null;
      }
    });
  }

  // ------------------------------------------------------------ lifecycle

  static async open(opts: StoreOptions): Promise<WorkspaceStore> {
    const persistence = await openPersistence({
      dir: opts.dir,
      fsync: opts.fsync ?? false,
      acknowledgedFile: opts.acknowledgedFile,
      readOnly: opts.readOnly,
      lockWaitMs: opts.lockWaitMs,
    });
    try {
      const loaded = await persistence.load();
      if (loaded.damaged.length > 0) {
        const list = loaded.damaged.map((d) => `${d.key}${d.seq !== undefined ? ` (bundle #${d.seq})` : ""}: ${d.reason}`);
        throw new StorageError(
          `the workspace store at ${opts.dir} has ${loaded.damaged.length} damaged record(s): ${list.slice(0, 5).join("; ")}` +
            `${list.length > 5 ? "; ..." : ""}. Nothing was changed on disk; \`openprod store inspect\` lists which bundles are recoverable.`,
          { dir: opts.dir, damaged: loaded.damaged },
        );
      }
      // A fresh actor per process: a change that never became durable can never reuse its sequence number.
      const actor = randomBytes(16).toString("hex");
      let be: Backend;
      let fresh = false;
      try {
        if (loaded.snapshot) be = loadBackend(loaded.snapshot.bytes, actor);
        else be = createBackend(actor);
        if (loaded.changes.length > 0) be.applyChanges(loaded.changes.map((c) => c.bytes));
      } catch (e) {
        throw new StorageError(`the workspace store at ${opts.dir} could not be loaded: ${(e as Error).message}`, { dir: opts.dir });
      }
      if (!loaded.snapshot && loaded.changes.length === 0) {
        be.applyChanges([genesisChange(opts.workspaceId)]);
        fresh = true;
      }
      if (loaded.recordedHeads && !sameHeads(loaded.recordedHeads, be.getHeads())) {
        const missing = be.getMissingDeps(loaded.recordedHeads);
        throw new StorageError(
          `the workspace store at ${opts.dir} is incomplete: it recorded heads ${loaded.recordedHeads.join(",")} but the stored changes lead to ${be.getHeads().join(",")}` +
            (missing.length ? ` (missing changes ${missing.join(", ")})` : ""),
          { dir: opts.dir, recordedHeads: loaded.recordedHeads, heads: be.getHeads(), missing },
        );
      }
      // The seqs were checked at open; the heads too, in case a change went missing under its seq.
      const lostHeads = loaded.acknowledged ? be.getMissingDeps(loaded.acknowledged.heads) : [];
      if (loaded.acknowledged && lostHeads.length > 0) {
        throw new StorageError(
          `the workspace store at ${opts.dir} holds less than it acknowledged: ${loaded.acknowledged.file} records heads it does not have (${lostHeads.join(", ")}). ` +
            "Nothing was changed on disk; `openprod store recover` keeps what verifies and syncs the rest from a peer",
          { dir: opts.dir, file: loaded.acknowledged.file, missingHeads: lostHeads },
        );
      }
      const storedWs = be.get("_root", "workspace");
      if (storedWs !== opts.workspaceId) {
        throw new StorageError(
          `the store at ${opts.dir} holds workspace "${String(storedWs)}", not "${opts.workspaceId}" (openprod.toml [workspace] id)`,
          { dir: opts.dir, stored: storedWs, expected: opts.workspaceId },
        );
      }
      // The clock resumes after every HLC this workspace has seen: the head changes carry the
      // greatest (HLCs grow along causality), and the value saved at close covers the rest.
      const lastHlc = await persistence.records(NS_META).get("hlc");
      const hlc = new HybridLogicalClock(opts.peerId, opts.now ?? Date.now, lastHlc ? dec.decode(lastHlc) : undefined);
      for (const h of be.getHeads()) {
        const m = parseBundleMeta(be.getChangeMetaByHash(h)?.message ?? null);
        if (m) hlc.observe(m.hlc);
      }
      const store = new WorkspaceStore(be, persistence, hlc, opts);
      store.lastSeq = loaded.changes.length ? loaded.changes[loaded.changes.length - 1].seq : (loaded.snapshot?.uptoSeq ?? 0);
      store.bundlesSinceCompaction = loaded.changes.length;
      store.bytesSinceCompaction = loaded.changes.reduce((sum, c) => sum + c.bytes.byteLength, 0);
      store.lastSaveBytes = loaded.snapshot?.bytes.byteLength ?? 0;
      if (fresh) {
        const genesis = be.getHeads();
        store.lastSeq = await persistence.appendChanges(
          genesis.map((h) => ({ hash: h, bytes: be.getChangeByHash(h) as Uint8Array })),
          genesis,
        );
      }
      await store.loadIndexes();
      await store.restoreConflicts();
      return store;
    } catch (e) {
      await persistence.close().catch(() => undefined);
      throw e;
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.persistence.writeRecords([{ namespace: NS_META, key: "hlc", value: enc.encode(this.hlc.last()) }]).catch(() => undefined);
    await this.persistence.close();
    this.be.free();
  }

  // --------------------------------------------------------------- writes

  /**
   * Apply operations as one bundle; durable when the promise resolves.
   * `records` are side records written in the same atomic write as the bundle
   * (e.g. a committed session's overlay removed exactly when its bundle lands).
   */
  async apply(ops: Operation[], input: BundleInput, opts: { records?: RecordWrite[]; gate?: WriteGate } = {}): Promise<BundleResult> {
    const release = await this.writeLock();
    let pending: { durable: Promise<void>; finish: () => BundleResult };
    try {
      pending = this.applyLocked(ops, input, opts.records ?? [], opts.gate);
    } finally {
      release();
    }
    await pending.durable;
    return pending.finish();
  }

  /**
   * The synchronous part of a bundle: ops into the document, indexes and
   * conflicts updated, the write queued. Returns the durability promise and
   * what to announce once it resolves.
   */
  private applyLocked(ops: Operation[], input: BundleInput, records: RecordWrite[], gate: WriteGate | undefined): { durable: Promise<void>; finish: () => BundleResult } {
    this.assertWritable();
    const hlc = this.hlc.tick();
    const ctx = this.context(hlc);
    if (gate) ctx.gate = gate;
    const results: OpResult[] = [];
    try {
      for (const op of ops) results.push(applyOperation(ctx, op));
    } catch (e) {
      this.be.rollback();
      this.forget(ctx.touched);
      throw e;
    }
    const meta = this.meta(hlc, input, ctx.touched, ops.length);
    const hash = this.be.commit(JSON.stringify(meta), Math.floor(this.now() / 1000));
    if (!hash) {
      const durable = records.length ? this.persistence.writeRecords(records) : Promise.resolve();
      return { durable, finish: () => ({ hash: null, hlc, results, changes: [] }) };
    }
    const bytes = this.be.getChangeByHash(hash) as Uint8Array;
    if (this.locator.isBuilt()) {
      const cmeta = this.be.getChangeMetaByHash(hash);
      if (cmeta) this.locator.added([cmeta]);
    }
    this.applyToIndexes(ctx.changes);
    // A local write to a conflicted key has seen every competing value: it resolves the conflict.
    const recheck: ConflictLocation[] = [];
    for (const c of ctx.changes) {
      // "entity" changes name structural keys too (a resolved `@merged_into`).
      if ((c.kind === "field" || c.kind === "entity") && this.conflictTracker.has("entity", c.entity, c.field)) {
        recheck.push({ container: "entity", entity: c.entity, obj: this.entityObjCached(c.entity) as string, key: c.field });
      }
    }
    const conflictDelta = recheck.length ? this.conflictTracker.examine(recheck) : { opened: [], closed: [] };
    for (const c of ctx.changes) if (c.kind === "edge") this.recheckEdgeConflicts(c.entity, conflictDelta);
    for (const clashId of ctx.clashes) {
      const d = this.conflictTracker.examineClash(clashId, this.be.get(this.doc.clashes, clashId));
      conflictDelta.opened.push(...d.opened);
      conflictDelta.closed.push(...d.closed);
    }
    const info: BundleInfo = { hash, meta };
    const durable = this.persist([{ hash, bytes }], [info], conflictDelta.opened, conflictDelta.closed, [...records]);
    return {
      durable,
      finish: () => {
        this.publish("local", [info], ctx.changes);
        return { hash, hlc, results, changes: ctx.changes };
      },
    };
  }

  /**
   * Apply operations as one bundle made at `heads` (a session's snapshot), as
   * Automerge's changeAt does: keys that canonical changed since then end up
   * holding both values, and become conflict records like a peer's would.
   */
  async commitAt(heads: Heads, ops: Operation[], input: BundleInput): Promise<CommitAtResult> {
    this.assertWritable();
    if (sameHeads(this.be.getHeads(), heads)) return { ...(await this.apply(ops, input)), conflicts: [] };
    const release = await this.writeLock();
    try {
      return await this.commitAtLocked(heads, ops, input, release);
    } finally {
      release();
    }
  }

  private async commitAtLocked(heads: Heads, ops: Operation[], input: BundleInput, release: () => void): Promise<CommitAtResult> {
    const before = this.be.getHeads();
    const missing = this.be.getMissingDeps(heads);
    if (missing.length) throw new InvalidOperation(`unknown snapshot heads ${heads.join(",")}`, { heads });
    const hlc = this.hlc.tick();
    const ctx = this.context(hlc);
    const results: OpResult[] = [];
    this.be.isolate(heads);
    this.doc.isolated = true;
    let hash: string | null;
    const meta = this.meta(hlc, input, ctx.touched, ops.length);
    try {
      for (const op of ops) results.push(applyOperation(ctx, op));
      meta.entities = [...ctx.touched].slice(0, ENTITY_CAP);
      if (ctx.touched.size > ENTITY_CAP) meta.entitiesTruncated = true;
      hash = this.be.commit(JSON.stringify(meta), Math.floor(this.now() / 1000));
    } catch (e) {
      this.be.rollback();
      this.be.integrate();
      this.doc.isolated = false;
      this.forget(ctx.touched);
      throw e;
    }
    this.be.integrate();
    this.doc.isolated = false;
    if (!hash) return { hash: null, hlc, results, changes: [], conflicts: [] };
    return { ...(await this.absorb("local", before, [{ hash, meta }], [], release)), results };
  }

  async resolveConflict(conflictId: string, value: FieldValue, input: BundleInput): Promise<BundleResult> {
    return this.apply([{ op: "ResolveConflict", conflictId, value }], input);
  }

  /**
   * Resolve every conflict of a bulk conflict in one bundle, keeping the
   * values of one side: "ours" (this peer's change set), "theirs" (the other),
   * or a change set id from `bulkConflicts()[i].sides`.
   */
  async resolveBulk(bulkId: string, keep: string, input: BundleInput): Promise<BundleResult> {
    const bulk = this.conflictTracker.bulkConflicts().find((b) => b.id === bulkId);
    if (!bulk) throw new InvalidOperation(`bulk conflict ${bulkId} is not open`, { bulk: bulkId });
    let side = bulk.sides.find((s) => s.changeSet === keep);
    if (!side && (keep === "ours" || keep === "theirs")) {
      const ours = bulk.sides.find((s) => s.peer === this.opts.peerId);
      if (!ours) {
        throw new InvalidOperation(
          `neither side of bulk conflict ${bulkId} was made on this peer: choose a side by change set (${bulk.sides.map((s) => s.changeSet).join(", ")})`,
          { bulk: bulkId, sides: bulk.sides },
        );
      }
      side = keep === "ours" ? ours : bulk.sides.find((s) => s !== ours);
    }
    if (!side) {
      throw new InvalidOperation(`"${keep}" is not a side of bulk conflict ${bulkId} (use ours, theirs or ${bulk.sides.map((s) => s.changeSet).join(", ")})`, {
        bulk: bulkId,
      });
    }
    const ops: Operation[] = [];
    for (const id of bulk.conflicts) {
      const rec = this.conflictTracker.get(id);
      if (!rec) continue;
      const v = rec.values.find((x) => x.changeSet === side.changeSet) ?? rec.values[0];
      ops.push({ op: "ResolveConflict", conflictId: id, value: v.value });
    }
    return this.apply(ops, input);
  }

  // ---------------------------------------------------------------- reads

  heads(): Heads {
    return this.be.getHeads();
  }

  hasHeads(heads: Heads): boolean {
    return this.be.getMissingDeps(heads).length === 0;
  }

  /** The live entity (following merge redirects), with its fields. */
  getEntity(id: string, opts: ReadOptions = {}): EntityView {
    const e = this.doc.live(id, opts.heads);
    const state = this.doc.state(e.id, e.obj, opts.heads);
    const fields = this.doc.fields(e.obj, opts.heads);
    if (!opts.heads) for (const k of Object.keys(fields)) fields[k] = this.provisional("entity", e.id, k, fields[k]);
    return { ...state, fields };
  }

  entityExists(id: string, opts: ReadOptions = {}): boolean {
    try {
      this.doc.live(id, opts.heads);
      return true;
    } catch {
      return false;
    }
  }

  /** Facets an entity carries (after following merges). */
  facetsOf(id: string, opts: ReadOptions = {}): string[] {
    const e = this.doc.live(id, opts.heads);
    return this.doc.facets(e.obj, opts.heads, e.id);
  }

  /** One field by any addressing form; nil (null) when unset. */
  getField(id: string, name: string, opts: ReadOptions = {}): FieldValue {
    const e = this.doc.live(id, opts.heads);
    const def = this.schema.resolveField(name, this.doc.facets(e.obj, opts.heads, e.id), `entity ${e.id}`);
    const v = this.doc.readField(e.obj, def, opts.heads);
    return opts.heads ? v : this.provisional("entity", e.id, def.key, v);
  }

  resolveField(name: string, facets?: Iterable<string>): FieldDef {
    return this.schema.resolveField(name, facets);
  }

  /** Entity ids matching a query, in result order. */
  queryIds(query: string, params: readonly unknown[] = [], opts: ReadOptions = {}): string[] {
    const parsed = parseQuery(query);
    return executeQuery(parsed, params, this.querySource(opts.heads));
  }

  query(query: string, params: readonly unknown[] = [], opts: ReadOptions = {}): EntityView[] {
    return this.queryIds(query, params, opts).map((id) => this.getEntity(id, opts));
  }

  edge(id: string, opts: ReadOptions = {}): EdgeState | null {
    const e = this.doc.edge(id, opts.heads);
    if (!e || e.deleted) return null;
    if (!opts.heads) {
      const pos = this.conflictTracker.provisional("edge", id, "pos");
      if (typeof pos === "string") e.position = pos;
    }
    return e;
  }

  /** Live edges touching an entity, optionally of one type and direction. */
  edgesOf(entity: string, opts: ReadOptions & { type?: string; direction?: "out" | "in" | "both" } = {}): EdgeState[] {
    const dir = opts.direction ?? "both";
    const ids = new Set<string>();
    if (dir !== "in") for (const id of this.indexes.edgesFrom(entity, opts.type)) ids.add(id);
    if (dir !== "out") for (const id of this.indexes.edgesTo(entity, opts.type)) ids.add(id);
    if (opts.heads) for (const id of this.changedEdgesSince(opts.heads)) ids.add(id);
    const out: EdgeState[] = [];
    for (const id of ids) {
      const e = this.edge(id, opts);
      if (!e) continue;
      if (opts.type && e.type !== opts.type) continue;
      if ((dir === "out" && e.source !== entity) || (dir === "in" && e.target !== entity)) continue;
      if (e.source !== entity && e.target !== entity) continue;
      out.push(e);
    }
    return out.sort((a, b) => (a.id < b.id ? -1 : 1));
  }

  /** Ordered edges pointing at `target` with `type`, in position order (ties by edge id). */
  orderedEdges(target: string, type: string, opts: ReadOptions = {}): EdgeState[] {
    return this.edgesOf(target, { ...opts, type, direction: "in" })
      .filter((e) => e.position !== null)
      .sort((a, b) => {
        const pa = a.position as string;
        const pb = b.position as string;
        return pa < pb ? -1 : pa > pb ? 1 : a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
      });
  }

  conflicts(): ConflictRecord[] {
    return this.conflictTracker.list();
  }

  conflict(id: string): ConflictRecord | undefined {
    return this.conflictTracker.get(id);
  }

  bulkConflicts(): BulkConflict[] {
    return this.conflictTracker.bulkConflicts();
  }

  /** Bundles newest first, optionally only those that touched an entity. */
  history(opts: { entity?: string; limit?: number } = {}): HistoryEntry[] {
    return this.historyOf().list(opts.entity, opts.limit ?? 100);
  }

  /** How many bundles the workspace's history holds: equal on peers with equal heads (unlike storage counters). */
  bundleCount(): number {
    return this.historyOf().size;
  }

  private historyOf(): HistoryIndex {
    if (!this.historyIndex) {
      // Built on first use from the change metadata in the document itself, then kept current.
      this.historyIndex = new HistoryIndex();
      const infos: BundleInfo[] = [];
      for (const m of this.be.getChangesMeta([])) {
        const meta = parseBundleMeta(m.message);
        if (meta) infos.push({ hash: m.hash, meta });
      }
      this.historyIndex.add(infos);
    }
    return this.historyIndex;
  }

  /** What a bundle of the history changed (field old → new, created, deleted...), at most `limit` changes listed. */
  bundleChanges(hash: string, limit = 50): BundleChanges {
    return bundleChanges(this.doc, this.be, hash, limit);
  }

  onChange(listener: ChangeListener): () => void {
    return this.feed.subscribe(listener);
  }

  get workspaceId(): string {
    return this.opts.workspaceId;
  }

  get peerId(): string {
    return this.opts.peerId;
  }

  /** Current HLC time (ticks the clock). */
  hlcNow(): string {
    return this.hlc.tick();
  }

  newEntityId(): string {
    return this.newId();
  }

  /** Side records (overlays, run records...) kept in the store's database. */
  records(namespace: string): ReturnType<WorkspacePersistence["records"]> {
    return this.persistence.records(namespace);
  }

  writeRecords(writes: RecordWrite[]): Promise<void> {
    return this.persistence.writeRecords(writes);
  }

  stats(): { entities: number; heads: Heads; conflicts: number; changes: number } {
    return { entities: this.be.length(this.doc.entities), heads: this.heads(), conflicts: this.conflictTracker.size, changes: this.lastSeq };
  }

  // ----------------------------------------------------------------- sync

  /** Start or resume Automerge sync with a peer; its sync state is persisted. */
  async openSyncSession(peerId: string): Promise<SyncSession> {
    const saved = await this.persistence.records(NS_SYNC).get(peerId);
    let state: WasmSyncState;
    try {
      state = saved ? api.decodeSyncState(saved) : api.initSyncState();
    } catch {
      state = api.initSyncState();
    }
    return {
      generateMessage: () => {
        // Never advertise heads that are not durable yet.
        if (this.closed || this.pendingDurable > 0) return null;
        return this.be.generateSyncMessage(state);
      },
      receiveMessage: (msg) => this.receiveSync(peerId, state, msg),
      close: async () => {
        if (this.closed) return;
        await this.persistence.records(NS_SYNC).put(peerId, api.encodeSyncState(state));
      },
    };
  }

  /** Called after every durable local bundle and merge (peers push promptly). */
  onSyncableChange(listener: () => void): () => void {
    this.syncListeners.add(listener);
    return () => this.syncListeners.delete(listener);
  }

  /** Compact now: a full save replaces the incremental change records. */
  async compact(): Promise<void> {
    const release = await this.writeLock();
    let heads: Heads;
    let saveBytes: number;
    let compacted: Promise<void>;
    try {
      this.assertWritable();
      heads = this.be.getHeads();
      const save = this.be.save();
      saveBytes = save.byteLength;
      compacted = this.persistence.compact(save, heads, this.lastSeq);
    } finally {
      release();
    }
    await compacted;
    this.bundlesSinceCompaction = 0;
    this.bytesSinceCompaction = 0;
    this.lastSaveBytes = saveBytes;
    // The indexes as of these heads, so a restart loads them instead of scanning every entity.
    const snapshot: IndexSnapshot = { v: 1, heads, state: this.indexes.exportState() };
    await this.persistence.writeRecords([{ namespace: NS_META, key: INDEX_SNAPSHOT, value: enc.encode(JSON.stringify(snapshot)) }]);
  }

  // ------------------------------------------------------------ internals

  private async receiveSync(peerId: string, state: WasmSyncState, msg: Uint8Array): Promise<void> {
    const release = await this.writeLock();
    try {
      await this.receiveSyncLocked(peerId, state, msg, release);
    } finally {
      release();
    }
  }

  private async receiveSyncLocked(peerId: string, state: WasmSyncState, msg: Uint8Array, release: () => void): Promise<void> {
    this.assertWritable();
    try {
      api.decodeSyncMessage(msg);
    } catch (e) {
      throw new InvalidOperation(`peer ${peerId} sent an undecodable sync message: ${(e as Error).message}`, { peer: peerId });
    }
    const before = this.be.getHeads();
    try {
      this.be.receiveSyncMessage(state, msg);
    } catch (e) {
      throw new InvalidOperation(`peer ${peerId} sent a sync message that could not be applied: ${(e as Error).message}`, { peer: peerId });
    }
    const after = this.be.getHeads();
    const syncWrite: RecordWrite = { namespace: NS_SYNC, key: peerId, value: api.encodeSyncState(state) };
    if (sameHeads(before, after)) {
      const written = this.persistence.writeRecords([syncWrite]);
      release();
      await written;
      return;
    }
    const metas = this.be.getChangesMeta(before);
    const infos: BundleInfo[] = [];
    for (const m of metas) {
      const meta = parseBundleMeta(m.message);
      if (meta) {
        infos.push({ hash: m.hash, meta });
        this.hlc.observe(meta.hlc);
      }
    }
    await this.absorb("remote", before, infos, [syncWrite], release);
  }

  /** Persist and announce changes already in the document since `before` (merges, commitAt). */
  private async absorb(
    origin: "local" | "remote",
    before: Heads,
    infos: BundleInfo[],
    side: RecordWrite[],
    release: () => void,
  ): Promise<CommitAtResult> {
    // The document moved under the caches: readers must not trust them while this merge is digested.
    this.doc.invalidateAll();
    this.pendingDurable++;
    let digest;
    let changes: { hash: string; bytes: Uint8Array }[];
    try {
      const metas = this.be.getChangesMeta(before);
      this.locator.added(metas);
      changes = metas.map((m) => ({ hash: m.hash, bytes: this.be.getChangeByHash(m.hash) as Uint8Array }));
      // Applying a big sync message and diffing it are two long wasm calls: let other work run between them.
      if (changes.length > 0) await new Promise<void>((resolve) => setImmediate(resolve));
      const patches = this.be.diff(before, this.be.getHeads());
      digest = await digestPatches(this.doc, patches, before, {
        isTracked: (container, id, key) => this.conflictTracker.has(container, id, key),
        yieldEvery: DIGEST_SLICE,
      });
    } finally {
      this.pendingDurable--;
    }
    this.forget(digest.touched);
    // What each touched field showed before: an open conflict's provisional value, else the document's.
    const shownBefore = new Map<string, FieldValue>();
    for (const loc of digest.conflictKeys) {
      const p = loc.container === "entity" ? this.conflictTracker.provisional("entity", loc.entity, loc.key) : undefined;
      if (p !== undefined) shownBefore.set(ConflictTracker.keyOf("entity", loc.entity, loc.key), p);
    }
    const delta = this.conflictTracker.examine(digest.conflictKeys);
    for (const c of digest.clashes) {
      const d = this.conflictTracker.examineClash(c.id, c.raw);
      delta.opened.push(...d.opened);
      delta.closed.push(...d.closed);
    }
    this.showProvisional(digest.changes, digest.conflictKeys, shownBefore);
    // Indexes follow what every copy shows, so they are updated only once conflicts are known.
    await this.applyToIndexesSliced(digest.changes);
    const durable = this.persist(changes, infos, delta.opened, delta.closed, side);
    release();
    await durable;
    this.publish(origin, infos, digest.changes);
    const last = infos[infos.length - 1];
    return { hash: last?.hash ?? null, hlc: last?.meta.hlc ?? this.hlc.last(), results: [], changes: digest.changes, conflicts: delta.opened };
  }

  /**
   * Field changes as users see them: a conflict's provisional value stands in for Automerge's own
   * pick, and a conflict opening or closing can change what a field shows while the document's
   * winning value stays the same.
   */
  private showProvisional(changes: FieldChange[], keys: ConflictLocation[], shownBefore: Map<string, FieldValue>): void {
    const reported = new Set<string>();
    for (const c of changes) {
      if (c.kind !== "field") continue;
      const k = ConflictTracker.keyOf("entity", c.entity, c.field);
      reported.add(k);
      if (shownBefore.has(k)) c.oldValue = shownBefore.get(k);
      c.newValue = this.provisional("entity", c.entity, c.field, c.newValue ?? null);
    }
    for (const loc of keys) {
      const k = ConflictTracker.keyOf("entity", loc.entity, loc.key);
      if (loc.container !== "entity" || reported.has(k)) continue;
      const now = this.conflictTracker.provisional("entity", loc.entity, loc.key);
      if (now === undefined && !shownBefore.has(k)) continue;
      const def = this.schema.fields.get(loc.key);
      if (!def || !this.doc.isLive(loc.entity)) continue;
      reported.add(k);
      const raw = this.doc.readField(loc.obj, def);
      const oldValue = shownBefore.has(k) ? (shownBefore.get(k) as FieldValue) : raw;
      const newValue = now === undefined ? raw : now;
      if (JSON.stringify(oldValue) !== JSON.stringify(newValue)) changes.push({ kind: "field", entity: loc.entity, field: loc.key, oldValue, newValue });
    }
  }

  /** The compaction a bundle started, while it runs. */
  private compaction: Promise<void> | null = null;

  private async persist(
    changes: { hash: string; bytes: Uint8Array }[],
    infos: BundleInfo[],
    opened: ConflictRecord[],
    closed: string[],
    side: RecordWrite[],
  ): Promise<void> {
    const writes: RecordWrite[] = side;
    this.historyIndex?.add(infos);
    for (const c of opened) writes.push({ namespace: NS_CONFLICTS, key: c.id, value: enc.encode(JSON.stringify(c)) });
    for (const id of closed) writes.push({ namespace: NS_CONFLICTS, key: id, value: null });
    this.pendingDurable++;
    try {
      this.lastSeq = await this.persistence.appendChanges(changes, this.be.getHeads(), writes);
    } catch (e) {
      this.broken = e as Error;
      throw new StorageError(`could not make a bundle durable in ${this.opts.dir}: ${(e as Error).message}; the store refuses further writes`, {
        dir: this.opts.dir,
      });
    } finally {
      this.pendingDurable--;
    }
    this.bundlesSinceCompaction += changes.length;
    for (const c of changes) this.bytesSinceCompaction += c.bytes.byteLength;
    // One compaction at a time: every bundle of a group-committed batch sees it due at once.
    if (this.compaction === null && this.compactionDue()) {
      this.compaction = this.compact().finally(() => (this.compaction = null));
      await this.compaction;
    }
    for (const l of this.syncListeners) l();
  }

  /**
   * A full save costs time in proportion to the whole history; waiting for as many bytes of new
   * changes as the last save held keeps that cost, spread over the bundles in between, flat.
   */
  private compactionDue(): boolean {
    return this.bundlesSinceCompaction >= (this.opts.compactEvery ?? 10_000) && this.bytesSinceCompaction >= this.lastSaveBytes;
  }

  private publish(origin: "local" | "remote", bundles: BundleInfo[], changes: FieldChange[]): void {
    this.changedSinceCache.clear();
    if (this.feed.size === 0) return;
    const event: ChangeEvent = { origin, bundles, changes, heads: this.be.getHeads() };
    this.feed.publish(event);
  }

  private context(hlc: string): OpContext {
    const ctx: OpContext = {
      doc: this.doc,
      schema: this.schema,
      newId: this.newId,
      random: this.random,
      hlc,
      changes: [],
      touched: new Set(),
      clashes: [],
      findConflict: (id) => this.conflictTarget(id),
      edgeCandidates: (entity) => [...this.indexes.edgesFrom(entity), ...this.indexes.edgesTo(entity), ...bundleEdges(ctx)],
      siblingCandidates: (target, type) => [...this.indexes.edgesTo(target, type), ...bundleEdges(ctx)],
      provisionalPosition: (id) => {
        const p = this.conflictTracker.provisional("edge", id, "pos");
        return typeof p === "string" ? p : undefined;
      },
    };
    return ctx;
  }

  /**
   * A fresh session overlay over this workspace: operations on it run through the same
   * interpreter as bundles, over canonical at whatever heads the caller reads at.
   */
  overlayDocument(): OverlayDocument {
    return new OverlayDocument({
      base: this.be,
      schema: this.schema,
      newId: this.newId,
      random: this.random,
      // Tombstones in an overlay only need to exist; the bundle that commits them gets a real HLC.
      hlc: () => "uncommitted",
      findConflict: (id) => this.conflictTarget(id),
      edgeCandidates: (entity, heads) => {
        const ids = [...this.indexes.edgesFrom(entity), ...this.indexes.edgesTo(entity)];
        return heads ? [...ids, ...this.changedEdgesSince(heads)] : ids;
      },
      siblingCandidates: (target, type, heads) => {
        const ids = [...this.indexes.edgesTo(target, type)];
        return heads ? [...ids, ...this.changedEdgesSince(heads)] : ids;
      },
      provisionalPosition: (id) => {
        const p = this.conflictTracker.provisional("edge", id, "pos");
        return typeof p === "string" ? p : undefined;
      },
    });
  }

  private meta(hlc: string, input: BundleInput, touched: Set<string>, ops: number): BundleMeta {
    const entities = [...touched];
    const meta: BundleMeta = { v: 1, hlc, peer: this.opts.peerId, actor: input.actor, entities: entities.slice(0, ENTITY_CAP), ops };
    if (input.origin) meta.origin = input.origin;
    if (entities.length > ENTITY_CAP) meta.entitiesTruncated = true;
    return meta;
  }

  private conflictTarget(id: string): ConflictTarget | null {
    const rec = this.conflictTracker.get(id);
    if (!rec) return null;
    return { entity: rec.entity, key: rec.field, container: rec.container, clashId: rec.clashId, mergedInto: rec.mergedInto };
  }

  private provisional(container: "entity" | "edge", entity: string, key: string, value: FieldValue): FieldValue {
    const p = this.conflictTracker.provisional(container, entity, key);
    return p === undefined ? value : p;
  }

  private recheckEdgeConflicts(edgeId: string, delta: { opened: ConflictRecord[]; closed: string[] }): void {
    if (!this.conflictTracker.has("edge", edgeId, "pos")) return;
    const obj = this.doc.edgeObj(edgeId);
    if (!obj) return;
    const d = this.conflictTracker.examine([{ container: "edge", entity: edgeId, obj, key: "pos" }]);
    delta.opened.push(...d.opened);
    delta.closed.push(...d.closed);
  }

  private entityObjCached(id: string): string | null {
    return this.doc.entityObj(id);
  }

  /**
   * Writers take turns: each holds the lock while it changes the document and
   * queues its write, and lets go before waiting for the disk, so concurrent
   * bundles still share one sync. The returned function releases (idempotent).
   */
  private writeLock(): Promise<() => void> {
    let releaseNext!: () => void;
    const next = new Promise<void>((resolve) => (releaseNext = resolve));
    const acquired = this.lockTail.then(() => {
      let released = false;
      return () => {
        if (released) return;
        released = true;
        releaseNext();
      };
    });
    this.lockTail = this.lockTail.then(() => next);
    return acquired;
  }

  /** Drop cached facts about entities a failed bundle touched. */
  private forget(entities: Iterable<string>): void {
    for (const id of entities) this.doc.invalidate(id);
    this.doc.invalidateLiveness();
  }

  private applyToIndexes(changes: FieldChange[]): void {
    for (const c of changes) this.indexChange(c);
    this.dropRemoved(changes);
  }

  /** applyToIndexes for big merges: lets the event loop run between slices. */
  private async applyToIndexesSliced(changes: FieldChange[]): Promise<void> {
    for (let i = 0; i < changes.length; i++) {
      this.indexChange(changes[i]);
      if (i % (DIGEST_SLICE * 8) === DIGEST_SLICE * 8 - 1) await new Promise<void>((resolve) => setImmediate(resolve));
    }
    this.dropRemoved(changes);
  }

  private indexChange(c: FieldChange): void {
    const ix = this.indexes;
    if (c.kind !== "field" && c.kind !== "edge") this.doc.invalidate(c.entity);
    if (c.kind === "entity") this.doc.invalidateLiveness();
    switch (c.kind) {
      case "field":
        ix.fieldChanged(c.entity, c.field, c.oldValue ?? null, c.newValue ?? null);
        break;
      case "table":
        if (c.newValue === null || c.newValue === undefined) ix.removeFromTable(c.entity, c.field);
        else ix.addToTable(c.entity, c.field);
        break;
      case "edge": {
        if (c.field === "deleted") ix.removeEdge(c.entity);
        else if (c.field === "created" || c.field === "moved") {
          const e = this.doc.edge(c.entity);
          ix.removeEdge(c.entity);
          if (e && !e.deleted) ix.addEdge({ id: e.id, type: e.type, source: e.source, target: e.target });
        }
        break;
      }
      case "entity":
      case "facet":
        break;
    }
  }

  /** Deleted and merged-away entities leave every index (after their other changes were applied). */
  private dropRemoved(changes: FieldChange[]): void {
    for (const c of changes) {
      if (c.kind === "entity" && (c.field === "deleted" || c.field === "merged")) this.indexes.removeEntity(c.entity);
    }
  }


  /**
   * Indexes on open: from the snapshot saved at the last compaction plus the
   * changes made since, or by a full scan when there is no usable snapshot.
   */
  private async loadIndexes(): Promise<void> {
    const raw = await this.persistence.records(NS_META).get(INDEX_SNAPSHOT);
    let snapshot: IndexSnapshot | null = null;
    try {
      snapshot = raw ? (JSON.parse(dec.decode(raw)) as IndexSnapshot) : null;
    } catch {
      snapshot = null;
    }
    if (!snapshot || snapshot.v !== 1 || this.be.getMissingDeps(snapshot.heads).length > 0) {
      this.rebuildIndexes();
      return;
    }
    this.indexes.importState(snapshot.state);
    if (!sameHeads(snapshot.heads, this.be.getHeads())) {
      const digest = await digestPatches(this.doc, this.be.diff(snapshot.heads, this.be.getHeads()), snapshot.heads);
      this.applyToIndexes(digest.changes);
    }
  }

  /** Full scan of the document: table membership and edges (field indexes build lazily). */
  private rebuildIndexes(): void {
    const be = this.be;
    const ents = this.doc.entities;
    for (const id of be.keys(ents)) {
      const obj = be.get(ents, id) as string;
      let live = true;
      const tables: string[] = [];
      for (const k of be.keys(obj)) {
        if (k === K_DELETED || k === K_MERGED_INTO) live = false;
        else if (k.startsWith(TABLE_PREFIX)) tables.push(k.slice(TABLE_PREFIX.length));
      }
      if (!live) continue;
      for (const t of tables) this.indexes.addToTable(id, t);
    }
    for (const id of be.keys(this.doc.edges)) {
      const e = this.doc.edge(id);
      if (e && !e.deleted) this.indexes.addEdge({ id, type: e.type, source: e.source, target: e.target });
    }
  }

  private async restoreConflicts(): Promise<void> {
    const records: ConflictRecord[] = [];
    const stale: string[] = [];
    for await (const [k, v] of this.persistence.records(NS_CONFLICTS).list()) {
      const rec = JSON.parse(dec.decode(v)) as ConflictRecord;
      const obj = rec.container === "entity" ? this.doc.entityObj(rec.entity) : this.doc.edgeObj(rec.entity);
      const stillOpen = rec.clashId
        ? this.be.get(this.doc.clashes, rec.clashId) !== undefined
        : rec.kind === "stranded"
          ? obj !== null && this.be.get(obj, rec.field) !== undefined
          : obj !== null && this.be.getAll(obj, rec.field).length > 1;
      if (stillOpen) records.push(rec);
      else stale.push(k);
    }
    this.conflictTracker.restore(records);
    if (stale.length) await this.persistence.writeRecords(stale.map((key) => ({ namespace: NS_CONFLICTS, key, value: null })));
  }

  /**
   * The query language's view of the workspace at `heads` (default: now).
   * Session overlays wrap it to layer their uncommitted ops over canonical.
   */
  querySource(heads?: Heads): QuerySource {
    const doc = this.doc;
    const ix = this.indexes;
    const changed = heads ? this.changedSince(heads) : null;
    const withChanged = (ids: Iterable<string>): Iterable<string> => (changed ? new Set([...ids, ...changed]) : ids);
    const objOf = (id: string): string | null => (heads ? doc.entityObj(id, heads) : this.entityObjCached(id));
    return {
      tableMembers: (table) => {
        this.schema.table(table);
        const members = ix.tableMembers(table);
        return changed ? new Set(withChanged(members)) : members;
      },
      allEntities: () => {
        const out: string[] = [];
        for (const id of this.be.keys(doc.entities, heads)) if (doc.isLive(id, heads)) out.push(id);
        return out;
      },
      fieldType: (key) => this.schema.fields.get(key)?.type,
      resolveField: (name, tables) => {
        if (tables.length === 0) return this.schema.resolveField(name).key;
        const facets = new Set<string>();
        for (const t of tables) for (const f of this.schema.table(t).facets) facets.add(f);
        return this.schema.resolveField(name, facets, `table ${tables.join(", ")}`).key;
      },
      lookupEqual: (key, value: ScalarValue) => {
        const ids = ix.lookupEqual(key, value, () => this.fieldValues(key));
        return withChanged(ids);
      },
      readField: (id, key) => {
        const obj = objOf(id);
        const def = this.schema.fields.get(key);
        if (!obj || !def) return undefined;
        const v = doc.readField(obj, def, heads);
        return heads ? v : this.provisional("entity", id, key, v);
      },
      inTable: (id, table) => {
        const obj = objOf(id);
        return obj !== null && this.be.get(obj, TABLE_PREFIX + table, heads) !== undefined;
      },
      isLive: (id) => doc.isLive(id, heads),
    };
  }

  private *fieldValues(key: string): Iterable<[string, unknown]> {
    const def = this.schema.fields.get(key);
    if (!def) return;
    const tables = [...this.schema.tables.values()].filter((t) => t.facets.includes(def.facetKey));
    const seen = new Set<string>();
    const candidates: Iterable<string> = tables.length
      ? (function* (ix: WorkspaceIndexes) {
          for (const t of tables) yield* ix.tableMembers(t.name);
        })(this.indexes)
      : this.be.keys(this.doc.entities);
    for (const id of candidates) {
      if (seen.has(id)) continue;
      seen.add(id);
      const obj = this.entityObjCached(id);
      if (!obj) continue;
      const v = this.be.getWithType(obj, key);
      if (!v) continue;
      yield [id, this.provisional("entity", id, key, this.doc.readField(obj, def))];
    }
    // Entities holding the facet without any of its tables.
    if (tables.length) {
      for (const id of this.be.keys(this.doc.entities)) {
        if (seen.has(id)) continue;
        const obj = this.entityObjCached(id);
        if (!obj || this.be.get(obj, key) === undefined || !this.doc.isLive(id)) continue;
        yield [id, this.provisional("entity", id, key, this.doc.readField(obj, def))];
      }
    }
  }

  /** Entities (and edges' endpoints) changed since `heads`: a snapshot query must re-check them. */
  private changedSince(heads: Heads): Set<string> {
    const key = heads.join(",");
    const hit = this.changedSinceCache.get(key);
    if (hit) return hit;
    const out = new Set<string>();
    for (const p of this.be.diff(heads, this.be.getHeads())) {
      const [root, id] = p.path as [string, unknown];
      if (typeof id !== "string") continue;
      if (root === ENTITIES) out.add(id);
      else if (root === EDGES) out.add(`edge:${id}`);
    }
    if (this.changedSinceCache.size > 32) this.changedSinceCache.clear();
    this.changedSinceCache.set(key, out);
    return out;
  }

  private changedEdgesSince(heads: Heads): string[] {
    return [...this.changedSince(heads)].filter((x) => x.startsWith("edge:")).map((x) => x.slice(5));
  }

  private assertWritable(): void {
    if (this.closed) throw new StorageError("the workspace store is closed", {});
    if (this.broken) throw new StorageError(`the workspace store stopped after a storage failure: ${this.broken.message}`, {});
  }
}

function sameHeads(a: Heads, b: Heads): boolean {
  if (a.length !== b.length) return false;
  const sa = [...a].sort();
  const sb = [...b].sort();
  return sa.every((h, i) => h === sb[i]);
}

export function headsEqual(a: Heads, b: Heads): boolean {
  return sameHeads(a, b);
}

export { EntityNotFound };
