/**
 * Bundle writing: operations run through the interpreter (apply-ops.ts) into
 * the document as one Automerge change, indexes and conflicts follow, and the
 * write is queued under the write lock; the caller hears back once it is durable.
 */
import type { Heads } from "./automerge-backend.ts";
import { applyOperation, bundleEdges } from "./apply-ops.ts";
import type { OpContext, OpResult } from "./apply-ops.ts";
import type { WriteGate } from "./op-writes.ts";
import type { BundleInfo, BundleInput, BundleMeta, Operation } from "./operations.ts";
import { OverlayDocument } from "./overlay-document.ts";
import type { RecordWrite } from "./persistence/index.ts";
import { conflictTarget, examineLocal, provisionalPosition } from "./store-conflicts.ts";
import type { StoreContext } from "./store-context.ts";
import type { Durability } from "./store-durability.ts";
import { applyToIndexes, forget } from "./store-indexing.ts";
import type { BundleResult } from "./store-types.ts";

/** Entities listed in a bundle's metadata; more are flagged as truncated. */
const ENTITY_CAP = 1000;

export class BundleWriter {
  constructor(
    private readonly ctx: StoreContext,
    private readonly durability: Durability,
    /** Edges changed since `heads` (a session's snapshot): overlays re-check them. */
    private readonly changedEdgesSince: (heads: Heads) => string[],
  ) {}

  /**
   * Apply operations as one bundle; durable when the promise resolves.
   * `records` are side records written in the same atomic write as the bundle
   * (e.g. a committed session's overlay removed exactly when its bundle lands).
   */
  async apply(ops: Operation[], input: BundleInput, opts: { records?: RecordWrite[]; gate?: WriteGate } = {}): Promise<BundleResult> {
    const release = await this.ctx.lock.acquire();
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
    const { be, persistence } = this.ctx;
    this.ctx.status.assertWritable();
    const hlc = this.ctx.hlc.tick();
    const ctx = this.opContext(hlc);
    if (gate) ctx.gate = gate;
    const results: OpResult[] = [];
    try {
      for (const op of ops) results.push(applyOperation(ctx, op));
    } catch (e) {
      be.rollback();
      forget(this.ctx, ctx.touched);
      throw e;
    }
    const meta = this.meta(hlc, input, ctx.touched, ops.length);
    const hash = be.commit(JSON.stringify(meta), Math.floor(this.ctx.now() / 1000));
    if (!hash) {
      const durable = records.length ? persistence.writeRecords(records) : Promise.resolve();
      return { durable, finish: () => ({ hash: null, hlc, results, changes: [] }) };
    }
    const bytes = be.getChangeByHash(hash) as Uint8Array;
    if (this.ctx.locator.isBuilt()) {
      const cmeta = be.getChangeMetaByHash(hash);
      if (cmeta) this.ctx.locator.added([cmeta]);
    }
    applyToIndexes(this.ctx, ctx.changes);
    const delta = examineLocal(this.ctx, ctx.changes, ctx.clashes);
    const info: BundleInfo = { hash, meta };
    const durable = this.durability.persist([{ hash, bytes }], [info], delta, records);
    return {
      durable,
      finish: () => {
        this.durability.announce("local", [info], ctx.changes, delta);
        return { hash, hlc, results, changes: ctx.changes };
      },
    };
  }

  /**
   * A fresh session overlay over this workspace: operations on it run through the same
   * interpreter as bundles, over canonical at whatever heads the caller reads at.
   */
  overlayDocument(): OverlayDocument {
    const { be, indexes, schema, tracker } = this.ctx;
    return new OverlayDocument({
      base: be,
      schema,
      newId: this.ctx.newId,
      random: this.ctx.random,
      // Tombstones in an overlay only need to exist; the bundle that commits them gets a real HLC.
      hlc: () => "uncommitted",
      findConflict: (id) => conflictTarget(tracker, id),
      edgeCandidates: (entity, heads) => {
        const ids = [...indexes.edgesFrom(entity), ...indexes.edgesTo(entity)];
        return heads ? [...ids, ...this.changedEdgesSince(heads)] : ids;
      },
      siblingCandidates: (target, type, heads) => {
        const ids = [...indexes.edgesTo(target, type)];
        return heads ? [...ids, ...this.changedEdgesSince(heads)] : ids;
      },
      provisionalPosition: (id) => provisionalPosition(tracker, id),
    });
  }

  private opContext(hlc: string): OpContext {
    const { indexes, tracker } = this.ctx;
    const ctx: OpContext = {
      doc: this.ctx.doc,
      schema: this.ctx.schema,
      newId: this.ctx.newId,
      random: this.ctx.random,
      hlc,
      changes: [],
      touched: new Set(),
      clashes: [],
      findConflict: (id) => conflictTarget(tracker, id),
      edgeCandidates: (entity) => [...indexes.edgesFrom(entity), ...indexes.edgesTo(entity), ...bundleEdges(ctx)],
      siblingCandidates: (target, type) => [...indexes.edgesTo(target, type), ...bundleEdges(ctx)],
      provisionalPosition: (id) => provisionalPosition(tracker, id),
    };
    return ctx;
  }

  private meta(hlc: string, input: BundleInput, touched: Set<string>, ops: number): BundleMeta {
    const entities = [...touched];
    const meta: BundleMeta = { v: 1, hlc, peer: this.ctx.peerId, actor: input.actor, entities: entities.slice(0, ENTITY_CAP), ops };
    if (input.origin) meta.origin = input.origin;
    if (entities.length > ENTITY_CAP) meta.entitiesTruncated = true;
    return meta;
  }
}
