/**
 * Typed reads and writes of the workspace layout (layout.ts) on an Automerge
 * backend. Reads take optional heads, so every read can be made at a point in
 * history (snapshot isolation, history views). Writes assume an open
 * transaction; the store commits or rolls it back as one bundle.
 */
import type { Heads } from "./automerge-backend.ts";
import type { DocAccess } from "./doc-access.ts";
import type { FieldDef, Schema } from "./schema.ts";
import type { FieldValue } from "./operations.ts";
import { EntityNotFound, InvalidOperation } from "./errors.ts";
import {
  CLASHES,
  EDGES,
  ENTITIES,
  FACET_PREFIX,
  HIDDEN_PREFIX,
  K_DELETED,
  K_MERGED_INTO,
  PROP_PREFIX,
  TABLE_PREFIX,
  checkListItem,
  encodeScalar,
} from "./layout.ts";
import type { EntityState, EdgeState } from "../../protocol/index.ts";
// The wire's own words (protocol/): the daemon keeps no second copy of them.
export type { EntityState, EdgeState };

type Obj = string;

export class WorkspaceDoc {
  readonly entities: Obj;
  readonly edges: Obj;
  readonly clashes: Obj;
  /**
   * Where an entity merged into two survivors at once redirects while that conflict is open: the
   * provisional winner every copy shows (set by the store; Automerge's own pick may differ).
   */
  provisionalMerge: (id: string) => string | undefined = () => undefined;
  /**
   * True while the backend is isolated at older heads (an overlay committed at its snapshot):
   * the caches below describe the current state and must not be used then.
   */
  isolated = false;
  // Current-state caches. Entity object ids never change; liveness and facets change only
  // through changes the store sees, which call invalidate().
  private readonly objCache = new Map<string, Obj>();
  private readonly liveCache = new Map<string, { id: string; obj: Obj }>();
  private readonly facetCache = new Map<string, string[]>();

  constructor(
    readonly be: DocAccess,
    readonly schema: Schema,
  ) {
    this.entities = objAt(be, "_root", ENTITIES);
    this.edges = objAt(be, "_root", EDGES);
    this.clashes = objAt(be, "_root", CLASHES);
  }

  // ---------------------------------------------------------------- reads

  entityObj(id: string, heads?: Heads): Obj | null {
    const cacheable = !heads && !this.isolated;
    if (cacheable) {
      const hit = this.objCache.get(id);
      if (hit) return hit;
    }
    const v = this.be.getWithType(this.entities, id, heads);
    const obj = v && v[0] === "map" ? v[1] : null;
    if (obj && cacheable) this.objCache.set(id, obj);
    return obj;
  }

  /** Forget what the caches know about an entity (its liveness, redirects or facets changed). */
  invalidate(id: string): void {
    this.liveCache.delete(id);
    this.facetCache.delete(id);
  }

  /** Forget every liveness and facet answer (the document changed in ways not yet digested). */
  invalidateAll(): void {
    this.liveCache.clear();
    this.facetCache.clear();
  }

  /** Forget every liveness answer (a merge redirect changed somewhere). */
  invalidateLiveness(): void {
    this.liveCache.clear();
  }

  /** The live entity an id names, following merge redirects; EntityNotFound otherwise. */
  live(id: string, heads?: Heads): { id: string; obj: Obj } {
    const cacheable = !heads && !this.isolated;
    if (cacheable) {
      const hit = this.liveCache.get(id);
      if (hit) return hit;
    }
    const found = this.resolveLive(id, heads);
    if (cacheable) this.liveCache.set(id, found);
    return found;
  }

  /**
   * One `keys()` read of the entity map answers both questions a write asks first: is it live
   * (the presence of `@deleted` / `@merged_into`), and which facets it carries. The bench's and a
   * show's writes spread over many entities, so the per-entity caches often miss; without this a
   * miss cost four Automerge reads (entity, merged, deleted, keys), now two.
   */
  private resolveLive(id: string, heads?: Heads): { id: string; obj: Obj } {
    const cacheable = !heads && !this.isolated;
    let current = id;
    for (let hops = 0; hops < 64; hops++) {
      const obj = this.entityObj(current, heads);
      if (!obj) throw new EntityNotFound(`entity ${id} does not exist`, { entity: id });
      const keys = this.be.keys(obj, heads);
      const merged = (heads ? undefined : this.provisionalMerge(current)) ?? (keys.includes(K_MERGED_INTO) ? this.be.get(obj, K_MERGED_INTO, heads) : undefined);
      if (typeof merged === "string") {
        current = merged;
        continue;
      }
      if (keys.includes(K_DELETED)) {
        throw new EntityNotFound(`entity ${id} was deleted`, { entity: id, deleted: true });
      }
      if (cacheable && !this.facetCache.has(current)) this.facetCache.set(current, this.facetsFromKeys(obj, keys, heads));
      return { id: current, obj };
    }
    throw new EntityNotFound(`entity ${id}: merge redirects form a loop`, { entity: id });
  }

  isLive(id: string, heads?: Heads): boolean {
    const obj = this.entityObj(id, heads);
    if (!obj) return false;
    return this.be.get(obj, K_DELETED, heads) === undefined && this.be.get(obj, K_MERGED_INTO, heads) === undefined;
  }

  state(id: string, obj: Obj, heads?: Heads): EntityState {
    const tables: Record<string, Record<string, FieldValue>> = {};
    for (const k of this.be.keys(obj, heads)) {
      if (k.startsWith(TABLE_PREFIX)) {
        tables[k.slice(TABLE_PREFIX.length)] = parseJsonObject(this.be.get(obj, k, heads));
      }
    }
    const deleted = this.be.get(obj, K_DELETED, heads);
    const merged = this.be.get(obj, K_MERGED_INTO, heads);
    return {
      id,
      facets: this.facets(obj, heads),
      tables,
      deleted: typeof deleted === "string" ? deleted : null,
      mergedInto: typeof merged === "string" ? merged : null,
    };
  }

  /**
   * Attached facets: those of the tables the entity is in, plus explicitly
   * attached ones (`@facet:x = true`), minus explicitly detached ones
   * (`@facet:x = false`). Implicit table facets keep a new entity to one
   * marker key, which matters for bulk imports.
   */
  facets(obj: Obj, heads?: Heads, entity?: string): string[] {
    const cacheable = entity !== undefined && !heads && !this.isolated;
    if (cacheable) {
      const hit = this.facetCache.get(entity);
      if (hit) return hit;
    }
    const out = this.readFacets(obj, heads);
    if (cacheable) this.facetCache.set(entity, out);
    return out;
  }

  private readFacets(obj: Obj, heads?: Heads): string[] {
    return this.facetsFromKeys(obj, this.be.keys(obj, heads), heads);
  }

  private facetsFromKeys(obj: Obj, keys: string[], heads?: Heads): string[] {
    const set = new Set<string>();
    const detached: string[] = [];
    for (const k of keys) {
      if (k.startsWith(TABLE_PREFIX)) {
        const t = this.schema.tables.get(k.slice(TABLE_PREFIX.length));
        if (t) for (const f of t.facets) set.add(f);
      } else if (k.startsWith(FACET_PREFIX)) {
        const f = k.slice(FACET_PREFIX.length);
        if (this.be.get(obj, k, heads) === false) detached.push(f);
        else set.add(f);
      }
    }
    for (const f of detached) set.delete(f);
    return [...set];
  }

  /** A field's value in its API shape (text → string, list → array, json → parsed). */
  readField(obj: Obj, def: FieldDef, heads?: Heads, key: string = def.key): FieldValue {
    const v = this.be.getWithType(obj, key, heads);
    if (!v) return null;
    return decodeValue(this.be, def, v, heads);
  }

  /** Every field value the entity holds, by full key. */
  fields(obj: Obj, heads?: Heads): Record<string, FieldValue> {
    const out: Record<string, FieldValue> = {};
    for (const k of this.be.keys(obj, heads)) {
      if (k.startsWith("@")) continue;
      const def = this.schema.fields.get(k);
      if (!def) continue;
      out[k] = this.readField(obj, def, heads);
    }
    return out;
  }

  edgeObj(id: string, heads?: Heads): Obj | null {
    const v = this.be.getWithType(this.edges, id, heads);
    return v && v[0] === "map" ? v[1] : null;
  }

  edge(id: string, heads?: Heads): EdgeState | null {
    const obj = this.edgeObj(id, heads);
    if (!obj) return null;
    const properties: Record<string, FieldValue> = {};
    for (const k of this.be.keys(obj, heads)) {
      if (k.startsWith(PROP_PREFIX)) properties[k.slice(PROP_PREFIX.length)] = parseJson(this.be.get(obj, k, heads));
    }
    const pos = this.be.get(obj, "pos", heads);
    return {
      id,
      type: String(this.be.get(obj, "type", heads)),
      source: String(this.be.get(obj, "source", heads)),
      target: String(this.be.get(obj, "target", heads)),
      position: typeof pos === "string" ? pos : null,
      properties,
      deleted: this.be.get(obj, K_DELETED, heads) !== undefined,
    };
  }

  liveEdge(id: string, heads?: Heads): EdgeState {
    const e = this.edge(id, heads);
    if (!e || e.deleted) throw new InvalidOperation(`edge ${id} does not exist`, { edge: id });
    return e;
  }

  // --------------------------------------------------------------- writes

  /** Write a field (validated against its type); returns the previous value. */
  writeField(entity: string, obj: Obj, def: FieldDef, value: FieldValue): void {
    const enc = encodeScalar(def, value, entity);
    if (enc === null) {
      if (this.be.get(obj, def.key) !== undefined) this.be.delete(obj, def.key);
      return;
    }
    if (def.type === "text") {
      const t = this.be.putObject(obj, def.key, "");
      this.be.updateText(t, value as string);
      return;
    }
    if (def.type === "list") {
      const list = this.be.putObject(obj, def.key, []);
      (value as FieldValue[]).forEach((item, i) => this.be.insert(list, i, item as string | number | boolean));
      return;
    }
    this.be.put(obj, def.key, enc.value, enc.datatype);
  }

  crdtObject(entity: string, obj: Obj, def: FieldDef, kind: "text" | "list"): Obj {
    if (def.type !== kind) {
      throw new InvalidOperation(`field ${def.key} of entity ${entity} is ${def.type}, not a CRDT ${kind}`, {
        entity,
        field: def.key,
        type: def.type,
      });
    }
    const v = this.be.getWithType(obj, def.key);
    if (v && v[0] === kind) return v[1];
    // First edit of an unset field: start from an empty CRDT object.
    return this.be.putObject(obj, def.key, kind === "text" ? "" : []);
  }

  checkListValue(entity: string, def: FieldDef, value: FieldValue): void {
    checkListItem(def, value, entity);
  }

  hidden(def: FieldDef): string {
    return HIDDEN_PREFIX + def.key;
  }
}

function objAt(be: DocAccess, parent: Obj, key: string): Obj {
  const v = be.getWithType(parent, key);
  if (!v || v[0] !== "map") throw new Error(`workspace document has no ${key} map (not an openprod workspace?)`);
  return v[1];
}

type FullValue = NonNullable<ReturnType<DocAccess["getWithType"]>>;

export function decodeValue(be: DocAccess, def: FieldDef, v: FullValue, heads?: Heads): FieldValue {
  switch (v[0]) {
    case "text":
      return be.text(v[1], heads);
    case "list":
    case "map":
    case "table":
      return readObject(be, v[1], v[0], heads);
    case "str":
      return def.type === "json" ? parseJson(v[1]) : v[1];
    case "int":
    case "uint":
    case "f64":
    case "counter":
      return v[1];
    case "boolean":
      return v[1];
    case "null":
      return null;
    case "timestamp":
      return v[1].toISOString();
    case "bytes":
      return null;
  }
}

/**
 * A list or map read key by key. Not `materialize`: Automerge's materialize commits the open
 * transaction, which would split a bundle in two and leave its first half without metadata.
 */
export function readObject(be: DocAccess, obj: Obj, kind: "list" | "map" | "table", heads?: Heads): FieldValue {
  const item = (v: FullValue | null): FieldValue => {
    if (!v) return null;
    if (v[0] === "list" || v[0] === "map" || v[0] === "table") return readObject(be, v[1], v[0], heads);
    if (v[0] === "text") return be.text(v[1], heads);
    if (v[0] === "timestamp") return v[1].toISOString();
    if (v[0] === "bytes") return null;
    return v[1];
  };
  if (kind === "list") {
    const n = be.length(obj, heads);
    const out: FieldValue[] = [];
    for (let i = 0; i < n; i++) out.push(item(be.getWithType(obj, i, heads)));
    return out;
  }
  const out: Record<string, FieldValue> = {};
  for (const k of be.keys(obj, heads)) out[k] = item(be.getWithType(obj, k, heads));
  return out;
}

export function parseJson(v: unknown): FieldValue {
  if (typeof v !== "string") return null;
  try {
    return JSON.parse(v) as FieldValue;
  } catch {
    return null;
  }
}

function parseJsonObject(v: unknown): Record<string, FieldValue> {
  const p = parseJson(v);
  return p && typeof p === "object" && !Array.isArray(p) ? p : {};
}
