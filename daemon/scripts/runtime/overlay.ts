/**
 * A session's overlay: the operations a script made but nobody committed yet, and the view they
 * give over canonical. Each operation runs through the store's own interpreter against the
 * overlay's copy-on-write document (crdt's OverlayDocument), so what a script sees in its session
 * is exactly what a commit will write, errors included. Recorded operations carry the ids the
 * overlay chose, so the commit creates the very entities and edges the script saw.
 */
import { InvalidOperation } from "../../crdt/index.ts";
import type { EdgeState, FieldValue, Fields, Operation, OverlayDocument, QuerySource, ScalarValue, WorkspaceStore, WriteGate } from "../../crdt/index.ts";
import type { OverlayBase } from "./overlay-base.ts";

export interface OverlayEntity {
  id: string;
  facets: string[];
  tables: string[];
  fields: Record<string, FieldValue>;
}

export type OverlayStore = Pick<WorkspaceStore, "overlayDocument" | "newEntityId" | "schema">;

export class Overlay {
  readonly ops: Operation[] = [];
  private readonly od: OverlayDocument;

  constructor(private readonly store: OverlayStore) {
    this.od = store.overlayDocument();
  }

  get size(): number {
    return this.ops.length;
  }

  /** Validates `op` over `base` + this overlay, records it (ids filled in) and returns what it made. */
  apply(op: Operation, base: OverlayBase, gate?: WriteGate): { id?: string; edgeId?: string; ids?: string[] } {
    const withIds = this.withIds(op);
    const r = this.od.apply(withIds, base.heads, gate) ?? {};
    this.ops.push(this.withKeys(withIds, r.field));
    const { field: _field, ...made } = r;
    return made;
  }

  /** Re-applies a stored op (restore after a restart); an op that no longer fits is kept without its view. */
  replay(op: Operation, base: OverlayBase): void {
    try {
      this.od.apply(op, base.heads);
    } catch {
      // Commit re-validates everything against canonical; the op stays for review.
    }
    this.ops.push(op);
  }

  // ------------------------------------------------------------------ reads

  isLive(id: string, base: OverlayBase): boolean {
    if (!this.od.touched.has(id)) return base.isLive(id);
    try {
      this.od.doc(base.heads).live(id);
      return true;
    } catch {
      return false;
    }
  }

  facetsOf(id: string, base: OverlayBase): string[] {
    if (!this.od.touched.has(id)) return base.facetsOf(id);
    const doc = this.od.doc(base.heads);
    const e = doc.live(id);
    return doc.facets(e.obj);
  }

  entity(id: string, base: OverlayBase): OverlayEntity {
    if (!this.od.touched.has(id)) {
      const e = base.entity(id);
      if (!this.od.touched.has(e.id)) return { id: e.id, facets: e.facets, tables: Object.keys(e.tables), fields: e.fields };
    }
    const doc = this.od.doc(base.heads);
    const e = doc.live(id);
    const state = doc.state(e.id, e.obj);
    return { id: e.id, facets: state.facets, tables: Object.keys(state.tables), fields: doc.fields(e.obj) };
  }

  field(id: string, key: string, base: OverlayBase): FieldValue {
    const v = this.entity(id, base).fields[key];
    return v === undefined ? null : v;
  }

  edge(id: string, base: OverlayBase): EdgeState | null {
    if (!this.od.edges.has(id)) {
      const e = base.edge(id);
      if (!e) return null;
      return this.isLive(e.source, base) && this.isLive(e.target, base) ? e : null;
    }
    const e = this.od.doc(base.heads).edge(id);
    if (!e || e.deleted) return null;
    return this.isLive(e.source, base) && this.isLive(e.target, base) ? e : null;
  }

  /** Ordered edges pointing at target with type, in position order (ties by id). */
  orderedEdges(target: string, type: string, base: OverlayBase): EdgeState[] {
    return this.od.orderedEdges(target, type, base.heads).filter((e) => this.isLive(e.source, base) && this.isLive(e.target, base));
  }

  /** The query language's view: `base` with this overlay on top. Equality lookups stay indexed. */
  querySource(base: OverlayBase): QuerySource {
    const src = base.querySource();
    const od = this.od;
    const doc = od.doc(base.heads);
    const touched = od.touched;
    const liveHere = (id: string): boolean => (touched.has(id) ? doc.isLive(id) : true);
    const objOf = (id: string): string | null => (doc.isLive(id) ? doc.entityObj(id) : null);
    return {
      tableMembers: (table) => {
        const members = src.tableMembers(table);
        if (od.deletions === 0 && !od.tablesTouched.has(table)) return members;
        const out = new Set<string>();
        for (const id of members) if (!touched.has(id)) out.add(id);
        for (const id of touched) {
          const obj = objOf(id);
          if (obj !== null && doc.be.get(obj, `@table:${table}`) !== undefined) out.add(id);
        }
        return out;
      },
      allEntities: () => {
        const out = new Set<string>();
        for (const id of src.allEntities()) if (liveHere(id)) out.add(id);
        for (const id of touched) if (doc.isLive(id)) out.add(id);
        return out;
      },
      resolveField: (name, tables) => src.resolveField(name, tables),
      // The schema's types: a query comparing a field with a value of another kind fails alike in a session.
      fieldType: (key) => doc.schema.fields.get(key)?.type,
      lookupEqual: (key, value: ScalarValue) => {
        const out = new Set<string>();
        for (const id of src.lookupEqual(key, value)) if (liveHere(id)) out.add(id);
        const hits = od.overlayEqual(key, value);
        if (hits) for (const id of hits) if (doc.isLive(id)) out.add(id);
        return out;
      },
      readField: (id, key) => {
        if (!touched.has(id)) return src.readField(id, key);
        const obj = objOf(id);
        const def = doc.schema.fields.get(key);
        if (obj === null || !def) return undefined;
        if (!doc.facets(obj).includes(def.facetKey)) return undefined;
        return doc.readField(obj, def);
      },
      inTable: (id, table) => {
        if (!touched.has(id)) return src.inTable(id, table);
        const obj = objOf(id);
        return obj !== null && doc.be.get(obj, `@table:${table}`) !== undefined;
      },
      isLive: (id) => (touched.has(id) ? doc.isLive(id) : src.isLive ? src.isLive(id) : true),
    };
  }

  /** The op as recorded for review: field names as the full keys they resolved to. */
  private withKeys(op: Operation, field: string | undefined): Operation {
    const { schema } = this.store;
    const keyed = (fields: Fields | undefined, facets: Iterable<string>): Fields => {
      const out: Fields = {};
      for (const [name, v] of Object.entries(fields ?? {})) out[schema.resolveField(name, facets).key] = v;
      return out;
    };
    switch (op.op) {
      case "SetField":
      case "ApplyCRDT":
        return field === undefined ? op : { ...op, field };
      case "CreateEntity": {
        const facets = new Set((op.facets ?? []).map((f) => schema.facet(f).key));
        for (const t of op.tables ?? []) for (const f of schema.table(t).facets) facets.add(f);
        return { ...op, fields: keyed(op.fields, facets) };
      }
      case "AttachFacet": {
        const facet = schema.facet(op.facet).key;
        return { ...op, facet, fields: keyed(op.fields, [facet]) };
      }
      default:
        return op;
    }
  }

  /** The op with every id it would generate chosen now, so the commit makes the same ones. */
  private withIds(op: Operation): Operation {
    switch (op.op) {
      case "CreateEntity":
        return op.id === undefined ? { ...op, id: this.store.newEntityId() } : op;
      case "CreateEdge":
      case "CreateOrderedEdge":
        return op.edgeId === undefined ? { ...op, edgeId: this.store.newEntityId() } : op;
      case "SplitEntity": {
        const distribution: Record<string, string[]> = {};
        for (const [k, facets] of Object.entries(op.distribution)) {
          distribution[k.startsWith("$new") || k === "" ? this.store.newEntityId() : k] = facets;
        }
        return { ...op, distribution };
      }
      case "MoveOrderedEdge":
      case "DeleteEdge":
        if (typeof op.edgeId !== "string" || op.edgeId === "") throw new InvalidOperation(`expected an edge id, got ${JSON.stringify(op.edgeId)}`, { edge: op.edgeId });
        return op;
      default:
        if ("id" in op && (typeof op.id !== "string" || op.id === "")) throw new InvalidOperation(`expected an entity id, got ${JSON.stringify(op.id)}`, { entity: String(op.id) });
        return op;
    }
  }
}
