/**
 * A session overlay's view of the workspace: canonical at the session's snapshot (or now) with
 * the overlay's uncommitted operations on top. Operations run through the very interpreter a
 * commit runs (apply-ops.ts) against a copy-on-write layer (overlay-access.ts); an operation that
 * fails is undone whole. Besides the layer, it keeps only what the script's queries need to stay
 * indexed: which entities and edges it changed, and an equality index of the values it wrote.
 */
import type { Backend, Heads } from "./automerge-backend.ts";
import { applyOperation, bundleEdges, orderedSiblings } from "./apply-ops.ts";
import type { ConflictTarget, OpContext, OpResult } from "./apply-ops.ts";
import type { FieldChange } from "./change-feed.ts";
import type { IdGenerator } from "./ids.ts";
import type { WriteGate } from "./op-writes.ts";
import type { Operation } from "./operations.ts";
import { OverlayLayer } from "./overlay-access.ts";
import type { Schema } from "./schema.ts";
import { WorkspaceDoc } from "./workspace-doc.ts";
import type { EdgeState } from "./workspace-doc.ts";

/** What canonical lends an overlay (the store builds it: WorkspaceStore.overlayDocument). */
export interface OverlayDocumentDeps {
  base: Backend;
  schema: Schema;
  newId: IdGenerator;
  random: () => number;
  hlc: () => string;
  findConflict: (id: string) => ConflictTarget | null;
  /** Canonical edge ids that may touch an entity at `heads` (a superset; each is re-checked). */
  edgeCandidates: (entity: string, heads: Heads | undefined) => Iterable<string>;
  /** Canonical ordered-edge ids that may point at target with type at `heads` (a superset). */
  siblingCandidates: (target: string, type: string, heads: Heads | undefined) => Iterable<string>;
  /** The position every copy shows for a conflicted ordered edge now. */
  provisionalPosition: (edgeId: string) => string | undefined;
}

export class OverlayDocument {
  private readonly layer: OverlayLayer;
  private readonly views = new Map<string, WorkspaceDoc>();
  /** Entities whose state the overlay changed: created, written, joined, deleted, merged... */
  readonly touched = new Set<string>();
  /** Tables whose membership the overlay changed. */
  readonly tablesTouched = new Set<string>();
  /** Edges the overlay created or changed, by endpoint. */
  private readonly edgesByEndpoint = new Map<string, Set<string>>();
  readonly edges = new Set<string>();
  /** Entities the overlay deleted or merged away. */
  deletions = 0;
  /** field key → value key → entity ids the overlay set that value on. */
  private readonly index = new Map<string, Map<string, Set<string>>>();
  private readonly indexed = new Map<string, string>();

  constructor(private readonly deps: OverlayDocumentDeps) {
    this.layer = new OverlayLayer(deps.base);
  }

  /** The workspace document as this overlay sees it over canonical at `heads` (undefined: now). */
  doc(heads: Heads | undefined): WorkspaceDoc {
    const key = heads ? heads.join(",") : "";
    let d = this.views.get(key);
    if (!d) {
      d = new WorkspaceDoc(this.layer.view(heads), this.deps.schema);
      // No current-state caches: canonical below keeps changing and the layer above may roll back.
      d.isolated = true;
      this.views.set(key, d);
    }
    return d;
  }

  /** Runs one operation over canonical at `heads` + the overlay; on any error nothing of it stays. */
  apply(op: Operation, heads: Heads | undefined, gate?: WriteGate): OpResult {
    const ctx = this.context(heads, gate);
    const mark = this.layer.mark();
    let result: OpResult;
    try {
      result = applyOperation(ctx, op);
    } catch (e) {
      this.layer.rollback(mark);
      throw e;
    }
    this.layer.settle();
    this.digest(ctx.changes, ctx.touched);
    return result;
  }

  /** Ordered edges pointing at target with type, in the order every copy would show them. */
  orderedEdges(target: string, type: string, heads: Heads | undefined): EdgeState[] {
    const doc = this.doc(heads);
    const out: EdgeState[] = [];
    for (const s of orderedSiblings(this.context(heads), target, type)) {
      const e = doc.edge(s.id);
      if (e) out.push({ ...e, position: s.pos });
    }
    return out;
  }

  /** Ids the overlay set `key` to the value with this index key on (see valueKey). */
  overlayEqual(key: string, value: unknown): ReadonlySet<string> | undefined {
    const vk = valueKey(value);
    return vk === null ? undefined : this.index.get(key)?.get(vk);
  }

  private context(heads: Heads | undefined, gate?: WriteGate): OpContext {
    const doc = this.doc(heads);
    const ctx: OpContext = {
      doc,
      schema: this.deps.schema,
      newId: this.deps.newId,
      random: this.deps.random,
      hlc: this.deps.hlc(),
      changes: [],
      touched: new Set(),
      clashes: [],
      findConflict: this.deps.findConflict,
      edgeCandidates: (entity) => [...this.deps.edgeCandidates(entity, heads), ...(this.edgesByEndpoint.get(entity) ?? []), ...bundleEdges(ctx)],
      siblingCandidates: (target, type) => [...this.deps.siblingCandidates(target, type, heads), ...(this.edgesByEndpoint.get(target) ?? []), ...bundleEdges(ctx)],
      ...(heads ? {} : { provisionalPosition: this.deps.provisionalPosition }),
    };
    if (gate) ctx.gate = gate;
    return ctx;
  }

  private digest(changes: FieldChange[], touched: Set<string>): void {
    for (const id of touched) this.touched.add(id);
    for (const c of changes) {
      switch (c.kind) {
        case "field":
          this.touched.add(c.entity);
          this.reindex(c.entity, c.field, c.newValue);
          break;
        case "table":
          this.touched.add(c.entity);
          this.tablesTouched.add(c.field);
          break;
        case "facet":
          this.touched.add(c.entity);
          break;
        case "entity":
          this.touched.add(c.entity);
          if (c.field === "deleted" || c.field === "merged") this.deletions++;
          break;
        case "edge": {
          this.edges.add(c.entity);
          const v = c.newValue as { source?: string; target?: string } | null | undefined;
          if (v && typeof v === "object" && !Array.isArray(v)) {
            for (const end of [v.source, v.target]) {
              if (typeof end !== "string") continue;
              let set = this.edgesByEndpoint.get(end);
              if (!set) this.edgesByEndpoint.set(end, (set = new Set()));
              set.add(c.entity);
            }
          }
          break;
        }
      }
    }
  }

  private reindex(entity: string, key: string, value: unknown): void {
    const slot = `${entity}\u0000${key}`;
    const old = this.indexed.get(slot);
    if (old !== undefined) this.index.get(key)?.get(old)?.delete(entity);
    const vk = valueKey(value);
    if (vk === null) {
      this.indexed.delete(slot);
      return;
    }
    let byValue = this.index.get(key);
    if (!byValue) this.index.set(key, (byValue = new Map()));
    let ids = byValue.get(vk);
    if (!ids) byValue.set(vk, (ids = new Set()));
    ids.add(entity);
    this.indexed.set(slot, vk);
  }
}

function valueKey(v: unknown): string | null {
  switch (typeof v) {
    case "string":
      return "s" + v;
    case "number":
      return "n" + v;
    case "boolean":
      return v ? "t" : "f";
    default:
      return null;
  }
}
