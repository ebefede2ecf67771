/**
 * Document access: entities, fields, edges and queries, now or as of past
 * heads. Reads of "now" show an open conflict's provisional value; reads at
 * heads show the document as it was.
 */
import type { Heads } from "./automerge-backend.ts";
import { EDGES, ENTITIES, TABLE_PREFIX } from "./layout.ts";
import type { FieldValue } from "./operations.ts";
import { executeQuery, parseQuery } from "./query/index.ts";
import type { QuerySource, ScalarValue } from "./query/index.ts";
import type { WorkspaceIndexes } from "./indexes.ts";
import { provisionalPosition, shown } from "./store-conflicts.ts";
import type { StoreContext } from "./store-context.ts";
import type { EntityView, ReadOptions } from "./store-types.ts";
import type { EdgeState } from "./workspace-doc.ts";
import { headsEqual } from "./store-context.ts";

export class DocumentReads {
  private readonly changedSinceCache = new Map<string, Set<string>>();

  constructor(private readonly ctx: Pick<StoreContext, "be" | "doc" | "schema" | "indexes" | "tracker">) {}

  /**
   * Heads to read the document at: none when `heads` are the document's own (a session's
   * snapshot nothing has moved past yet), so the reads take the current-state caches; the
   * answer is the same. Whether a conflict's provisional value is shown still follows the
   * caller's heads.
   */
  private at(heads: Heads | undefined): Heads | undefined {
    return heads && !headsEqual(heads, this.ctx.be.getHeads()) ? heads : undefined;
  }

  /** The live entity (following merge redirects), with its fields. */
  getEntity(id: string, opts: ReadOptions = {}): EntityView {
    const { doc, tracker } = this.ctx;
    const heads = this.at(opts.heads);
    const e = doc.live(id, heads);
    const state = doc.state(e.id, e.obj, heads);
    const fields = doc.fields(e.obj, heads);
    if (!opts.heads) for (const k of Object.keys(fields)) fields[k] = shown(tracker, "entity", e.id, k, fields[k]);
    return { ...state, fields };
  }

  entityExists(id: string, opts: ReadOptions = {}): boolean {
    try {
      this.ctx.doc.live(id, this.at(opts.heads));
      return true;
    } catch {
      return false;
    }
  }

  /** Facets an entity carries (after following merges). */
  facetsOf(id: string, opts: ReadOptions = {}): string[] {
    const heads = this.at(opts.heads);
    const e = this.ctx.doc.live(id, heads);
    return this.ctx.doc.facets(e.obj, heads, e.id);
  }

  /** One field by any addressing form; nil (null) when unset. */
  getField(id: string, name: string, opts: ReadOptions = {}): FieldValue {
    const { doc, schema, tracker } = this.ctx;
    const heads = this.at(opts.heads);
    const e = doc.live(id, heads);
    const def = schema.resolveField(name, doc.facets(e.obj, heads, e.id), `entity ${e.id}`);
    const v = doc.readField(e.obj, def, heads);
    return opts.heads ? v : shown(tracker, "entity", e.id, def.key, v);
  }

  /** Entity ids matching a query, in result order. */
  queryIds(query: string, params: readonly unknown[] = [], opts: ReadOptions = {}): string[] {
    return executeQuery(parseQuery(query), params, this.querySource(opts.heads));
  }

  edge(id: string, opts: ReadOptions = {}): EdgeState | null {
    const e = this.ctx.doc.edge(id, opts.heads);
    if (!e || e.deleted) return null;
    if (!opts.heads) {
      const pos = provisionalPosition(this.ctx.tracker, id);
      if (pos !== undefined) e.position = pos;
    }
    return e;
  }

  /** Live edges touching an entity, optionally of one type and direction. */
  edgesOf(entity: string, opts: ReadOptions & { type?: string; direction?: "out" | "in" | "both" } = {}): EdgeState[] {
    const { indexes } = this.ctx;
    const dir = opts.direction ?? "both";
    const ids = new Set<string>();
    if (dir !== "in") for (const id of indexes.edgesFrom(entity, opts.type)) ids.add(id);
    if (dir !== "out") for (const id of indexes.edgesTo(entity, opts.type)) ids.add(id);
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

  /**
   * The query language's view of the workspace at `heads` (default: now).
   * Session overlays wrap it to layer their uncommitted ops over canonical.
   */
  querySource(asOf?: Heads): QuerySource {
    const { be, doc, schema, tracker } = this.ctx;
    const ix = this.ctx.indexes;
    const heads = this.at(asOf);
    const changed = heads ? this.changedSince(heads) : null;
    const withChanged = (ids: Iterable<string>): Iterable<string> => (changed ? new Set([...ids, ...changed]) : ids);
    const objOf = (id: string): string | null => (heads ? doc.entityObj(id, heads) : doc.entityObj(id));
    return {
      tableMembers: (table) => {
        schema.table(table);
        const members = ix.tableMembers(table);
        return changed ? new Set(withChanged(members)) : members;
      },
      allEntities: () => {
        const out: string[] = [];
        for (const id of be.keys(doc.entities, heads)) if (doc.isLive(id, heads)) out.push(id);
        return out;
      },
      fieldType: (key) => schema.fields.get(key)?.type,
      resolveField: (name, tables) => {
        if (tables.length === 0) return schema.resolveField(name).key;
        const facets = new Set<string>();
        for (const t of tables) for (const f of schema.table(t).facets) facets.add(f);
        return schema.resolveField(name, facets, `table ${tables.join(", ")}`).key;
      },
      lookupEqual: (key, value: ScalarValue) => {
        const ids = ix.lookupEqual(key, value, () => this.fieldValues(key));
        return withChanged(ids);
      },
      readField: (id, key) => {
        const obj = objOf(id);
        const def = schema.fields.get(key);
        if (!obj || !def) return undefined;
        const v = doc.readField(obj, def, heads);
        return asOf ? v : shown(tracker, "entity", id, key, v);
      },
      inTable: (id, table) => {
        const obj = objOf(id);
        return obj !== null && be.get(obj, TABLE_PREFIX + table, heads) !== undefined;
      },
      isLive: (id) => doc.isLive(id, heads),
    };
  }

  /** Every entity's value of `key` (as shown now), for building a field index. */
  private *fieldValues(key: string): Iterable<[string, unknown]> {
    const { be, doc, schema, tracker } = this.ctx;
    const def = schema.fields.get(key);
    if (!def) return;
    const tables = [...schema.tables.values()].filter((t) => t.facets.includes(def.facetKey));
    const seen = new Set<string>();
    const candidates: Iterable<string> = tables.length
      ? (function* (ix: WorkspaceIndexes) {
          for (const t of tables) yield* ix.tableMembers(t.name);
        })(this.ctx.indexes)
      : be.keys(doc.entities);
    for (const id of candidates) {
      if (seen.has(id)) continue;
      seen.add(id);
      const obj = doc.entityObj(id);
      if (!obj) continue;
      const v = be.getWithType(obj, key);
      if (!v) continue;
      yield [id, shown(tracker, "entity", id, key, doc.readField(obj, def))];
    }
    // Entities holding the facet without any of its tables.
    if (tables.length) {
      for (const id of be.keys(doc.entities)) {
        if (seen.has(id)) continue;
        const obj = doc.entityObj(id);
        if (!obj || be.get(obj, key) === undefined || !doc.isLive(id)) continue;
        yield [id, shown(tracker, "entity", id, key, doc.readField(obj, def))];
      }
    }
  }

  /** The document moved on: what changed since any heads must be computed again. */
  forgetChanged(): void {
    this.changedSinceCache.clear();
  }

  /** Entities (and edges' endpoints) changed since `heads`: a snapshot query must re-check them. */
  private changedSince(heads: Heads): Set<string> {
    const key = heads.join(",");
    const hit = this.changedSinceCache.get(key);
    if (hit) return hit;
    const out = new Set<string>();
    const { be } = this.ctx;
    for (const p of be.diff(heads, be.getHeads())) {
      const [root, id] = p.path as [string, unknown];
      if (typeof id !== "string") continue;
      if (root === ENTITIES) out.add(id);
      else if (root === EDGES) out.add(`edge:${id}`);
    }
    if (this.changedSinceCache.size > 32) this.changedSinceCache.clear();
    this.changedSinceCache.set(key, out);
    return out;
  }

  changedEdgesSince(heads: Heads): string[] {
    return [...this.changedSince(heads)].filter((x) => x.startsWith("edge:")).map((x) => x.slice(5));
  }
}
