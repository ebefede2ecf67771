/**
 * In-memory secondary indexes of one workspace: table membership, field value
 * → entity ids, edges by endpoint. The store keeps them current from its
 * change feed and rebuilds them on load; queries and the edge API read them
 * so that their cost follows the answer's size, not the workspace's.
 *
 * Field equality indexes are built on first lookup of a key (most fields are
 * never queried by value) and maintained from then on. They follow the query
 * language's value rules (query/values.ts): 1 and 1.0 are one value, "1" is
 * another, true is neither. nil, NaN, json and list values are not indexed:
 * a lookup of nil is answered by scanning `build()` (still correct, and the
 * query planner never asks), other values simply never match a scalar.
 *
 * Memory: a value held by one entity is stored as the bare id rather than a
 * one-element Set, which is the common case for keys like unit numbers.
 */
import { toQueryValue, valuesEqual } from "./query/index.ts";
import type { ScalarValue } from "./query/index.ts";

export interface IndexedEdge {
  readonly id: string;
  readonly type: string;
  readonly source: string;
  readonly target: string;
}

type IndexKey = string | number | boolean;
/** One id, or several. */
type Ids = string | Set<string>;

interface FieldIndex {
  readonly byValue: Map<IndexKey, Ids>;
  /** Each entity's indexed value, so a change or deletion finds its old bucket. */
  readonly byEntity: Map<string, IndexKey>;
}

const EMPTY: ReadonlySet<string> = new Set<string>();

/** Serializable contents of the indexes (JSON-safe). */
export interface IndexState {
  tables: [table: string, ids: string[]][];
  edges: [id: string, type: string, source: string, target: string][];
  fields: [key: string, entries: [id: string, value: string | number | boolean][]][];
}

export class WorkspaceIndexes {
  private readonly tables = new Map<string, Set<string>>();
  private readonly entityTables = new Map<string, Ids>();
  private readonly fields = new Map<string, FieldIndex>();
  private readonly edges = new Map<string, IndexedEdge>();
  private readonly edgesBySource = new Map<string, Ids>();
  private readonly edgesByTarget = new Map<string, Ids>();

  /**
   * Everything the indexes hold, as plain data: saved beside a compaction so
   * a restart can load it instead of scanning the whole workspace.
   */
  exportState(): IndexState {
    return {
      tables: [...this.tables].map(([t, ids]) => [t, [...ids]]),
      edges: [...this.edges.values()].map((e) => [e.id, e.type, e.source, e.target]),
      fields: [...this.fields].map(([key, index]) => [key, [...index.byEntity]]),
    };
  }

  /** Load what exportState() saved (into empty indexes). */
  importState(state: IndexState): void {
    for (const [table, ids] of state.tables) for (const id of ids) this.addToTable(id, table);
    for (const [id, type, source, target] of state.edges) this.addEdge({ id, type, source, target });
    for (const [key, entries] of state.fields) {
      const index: FieldIndex = { byValue: new Map(), byEntity: new Map() };
      for (const [id, k] of entries) {
        index.byEntity.set(id, k);
        addId(index.byValue, k, id);
      }
      this.fields.set(key, index);
    }
  }

  // ---- table membership

  addToTable(entityId: string, table: string): void {
    let members = this.tables.get(table);
    if (!members) this.tables.set(table, (members = new Set()));
    members.add(entityId);
    addId(this.entityTables, entityId, table);
  }

  removeFromTable(entityId: string, table: string): void {
    const members = this.tables.get(table);
    if (members) {
      members.delete(entityId);
      if (members.size === 0) this.tables.delete(table);
    }
    removeId(this.entityTables, entityId, table);
  }

  /** Live members; the set is the index's own, read it before the next change. */
  tableMembers(table: string): ReadonlySet<string> {
    return this.tables.get(table) ?? EMPTY;
  }

  /** Membership test without allocating (tablesOf builds a set for single-table entities). */
  inTable(entityId: string, table: string): boolean {
    const t = this.entityTables.get(entityId);
    return t === undefined ? false : typeof t === "string" ? t === table : t.has(table);
  }

  tablesOf(entityId: string): ReadonlySet<string> {
    return asSet(this.entityTables.get(entityId));
  }

  /** A deleted or merged-away entity leaves every index, with the edges that touch it. */
  removeEntity(entityId: string): void {
    for (const table of [...this.tablesOf(entityId)]) this.removeFromTable(entityId, table);
    for (const index of this.fields.values()) {
      const old = index.byEntity.get(entityId);
      if (old !== undefined) {
        index.byEntity.delete(entityId);
        removeId(index.byValue, old, entityId);
      }
    }
    for (const edgeId of [...asSet(this.edgesBySource.get(entityId)), ...asSet(this.edgesByTarget.get(entityId))]) {
      this.removeEdge(edgeId);
    }
  }

  // ---- field values

  /** Call on every field write; a no-op (one map miss) for keys nobody has looked up yet. */
  fieldChanged(entityId: string, key: string, _oldValue: unknown, newValue: unknown): void {
    const index = this.fields.get(key);
    if (index === undefined) return;
    // The index's own record of the old value is used, so a stale oldValue cannot corrupt it.
    const old = index.byEntity.get(entityId);
    const next = indexKey(newValue);
    if (old === next) return;
    if (old !== undefined) removeId(index.byValue, old, entityId);
    if (next === undefined) index.byEntity.delete(entityId);
    else {
      index.byEntity.set(entityId, next);
      addId(index.byValue, next, entityId);
    }
  }

  /**
   * Ids whose field `key` equals `value`.
   * @remarks `build` lists [entity, current value] for every live entity
   * (undefined where the field is unset). It is called once per key, on its
   * first lookup, and again for each nil lookup, which is answered by that
   * scan. The returned set may be the index's own: read it before the next change.
   */
  lookupEqual(key: string, value: ScalarValue, build: () => Iterable<[entityId: string, value: unknown]>): ReadonlySet<string> {
    const wanted = indexKey(value);
    if (wanted === undefined) return scanEqual(value, build());
    let index = this.fields.get(key);
    if (index === undefined) {
      index = { byValue: new Map(), byEntity: new Map() };
      for (const [id, v] of build()) {
        const k = indexKey(v);
        if (k === undefined) continue;
        index.byEntity.set(id, k);
        addId(index.byValue, k, id);
      }
      this.fields.set(key, index);
    }
    return asSet(index.byValue.get(wanted));
  }

  /** Whether the equality index for a key has been built (it is, after its first lookup). */
  hasFieldIndex(key: string): boolean {
    return this.fields.has(key);
  }

  // ---- edges

  /** Adds an edge, or moves it if an edge with this id is already indexed. */
  addEdge(e: IndexedEdge): void {
    if (this.edges.has(e.id)) this.removeEdge(e.id);
    const edge = { id: e.id, type: e.type, source: e.source, target: e.target };
    this.edges.set(e.id, edge);
    addId(this.edgesBySource, e.source, e.id);
    addId(this.edgesByTarget, e.target, e.id);
  }

  removeEdge(edgeId: string): void {
    const e = this.edges.get(edgeId);
    if (!e) return;
    this.edges.delete(edgeId);
    removeId(this.edgesBySource, e.source, edgeId);
    removeId(this.edgesByTarget, e.target, edgeId);
  }

  /** Ids of edges leaving an entity (optionally of one type), in id order. */
  edgesFrom(entityId: string, type?: string): string[] {
    return this.edgeIds(this.edgesBySource.get(entityId), type);
  }

  /** Ids of edges arriving at an entity (optionally of one type), in id order. */
  edgesTo(entityId: string, type?: string): string[] {
    return this.edgeIds(this.edgesByTarget.get(entityId), type);
  }

  edge(edgeId: string): IndexedEdge | undefined {
    return this.edges.get(edgeId);
  }

  private edgeIds(ids: Ids | undefined, type: string | undefined): string[] {
    const out: string[] = [];
    for (const id of asSet(ids)) {
      if (type === undefined || this.edges.get(id)?.type === type) out.push(id);
    }
    return out.sort();
  }
}

/** The index's key for a value, or undefined when the value is not indexed. */
function indexKey(v: unknown): IndexKey | undefined {
  const q = toQueryValue(v);
  if (q === null || typeof q === "symbol" || (typeof q === "number" && Number.isNaN(q))) return undefined;
  return q;
}

function scanEqual(value: ScalarValue, rows: Iterable<[string, unknown]>): ReadonlySet<string> {
  const out = new Set<string>();
  for (const [id, v] of rows) if (valuesEqual(toQueryValue(v), value)) out.add(id);
  return out;
}

function asSet(ids: Ids | undefined): ReadonlySet<string> {
  if (ids === undefined) return EMPTY;
  return typeof ids === "string" ? new Set([ids]) : ids;
}

function addId<K>(m: Map<K, Ids>, k: K, id: string): void {
  const cur = m.get(k);
  if (cur === undefined) m.set(k, id);
  else if (typeof cur === "string") {
    if (cur !== id) m.set(k, new Set([cur, id]));
  } else cur.add(id);
}

function removeId<K>(m: Map<K, Ids>, k: K, id: string): void {
  const cur = m.get(k);
  if (cur === undefined) return;
  if (typeof cur === "string") {
    if (cur === id) m.delete(k);
    return;
  }
  cur.delete(id);
  if (cur.size === 1) m.set(k, cur.values().next().value as string);
  else if (cur.size === 0) m.delete(k);
}
