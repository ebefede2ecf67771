/**
 * A session's overlay: the operations a script made but nobody committed yet, and the view
 * they give over canonical. Every operation is validated here, where the script made it, against
 * canonical + the overlay so far; the overlay keeps just enough state (per-entity deltas, edges,
 * an equality index of the values it set) for the script's own queries to see its writes without
 * scanning the workspace.
 */
import { EntityNotFound, InvalidOperation, positionBetween } from "../../crdt/index.ts";
import type { EdgeState, FieldValue, Fields, Operation, QuerySource, Schema, ScalarValue } from "../../crdt/index.ts";
import { checkFieldValue } from "./field-values.ts";
import type { OverlayBase } from "./overlay-base.ts";

interface EntityDelta {
  created: boolean;
  deleted: boolean;
  facets: Set<string>;
  /** Materialised only when a table operation needs it. */
  tables: Map<string, Fields> | null;
  /** Field overrides; null clears. */
  fields: Map<string, FieldValue>;
}

export interface OverlayEntity {
  id: string;
  facets: string[];
  tables: string[];
  fields: Record<string, FieldValue>;
}

export interface OverlayIds {
  newEntityId(): string;
  random(): number;
}

const SCALAR_TYPES = new Set(["string", "int", "float", "bool", "ref"]);

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

export class Overlay {
  readonly ops: Operation[] = [];
  private readonly entities = new Map<string, EntityDelta>();
  private readonly edges = new Map<string, EdgeState>();
  /** field key → value key → entity ids whose overlay value it is. */
  private readonly index = new Map<string, Map<string, Set<string>>>();
  private readonly tablesTouched = new Set<string>();
  private deletions = 0;

  constructor(private readonly schema: Schema, private readonly ids: OverlayIds) {}

  get size(): number {
    return this.ops.length;
  }

  /** Validates `op` over `base` + this overlay, records it (ids filled in) and returns what it made. */
  apply(op: Operation, base: OverlayBase): { id?: string; edgeId?: string; ids?: string[] } {
    const recorded = this.execute(op, base);
    this.ops.push(recorded.op);
    return recorded.result;
  }

  /** Re-applies a stored op (restore after a restart); an op that no longer fits is kept without its view. */
  replay(op: Operation, base: OverlayBase): void {
    try {
      this.execute(op, base);
    } catch {
      // Commit re-validates everything against canonical; the op stays for review.
    }
    this.ops.push(op);
  }

  // ------------------------------------------------------------------ reads

  isLive(id: string, base: OverlayBase): boolean {
    const d = this.entities.get(id);
    if (d) return !d.deleted;
    return base.isLive(id);
  }

  facetsOf(id: string, base: OverlayBase): string[] {
    return [...this.delta(id, base).facets];
  }

  entity(id: string, base: OverlayBase): OverlayEntity {
    const d = this.entities.get(id);
    if (d?.deleted) throw new EntityNotFound(`entity ${id} was deleted by this script's session`, { entity: id });
    if (!d) {
      const e = base.entity(id);
      return { id: e.id, facets: e.facets, tables: Object.keys(e.tables), fields: e.fields };
    }
    const fields: Record<string, FieldValue> = {};
    if (!d.created) {
      const e = base.entity(id);
      for (const def of this.schema.fieldsOf(d.facets)) {
        const v = e.fields[def.key];
        if (v !== undefined && v !== null) fields[def.key] = v;
      }
    }
    for (const [k, v] of d.fields) {
      if (v === null) delete fields[k];
      else fields[k] = v;
    }
    return { id, facets: [...d.facets], tables: [...this.tablesOf(id, d, base).keys()], fields };
  }

  field(id: string, key: string, base: OverlayBase): FieldValue {
    const d = this.entities.get(id);
    if (d) {
      if (d.deleted) throw new EntityNotFound(`entity ${id} was deleted by this script's session`, { entity: id });
      if (d.fields.has(key)) return d.fields.get(key) ?? null;
      if (d.created) return null;
    }
    const v = base.entity(id).fields[key];
    return v === undefined ? null : v;
  }

  edge(id: string, base: OverlayBase): EdgeState | null {
    const e = this.edges.get(id) ?? base.edge(id);
    if (!e || e.deleted) return null;
    if (!this.isLive(e.source, base) || !this.isLive(e.target, base)) return null;
    return e;
  }

  /** Ordered edges pointing at target with type, in position order (ties by id). */
  orderedEdges(target: string, type: string, base: OverlayBase): EdgeState[] {
    const ids = new Set<string>();
    for (const e of base.edgesTo(target, type)) ids.add(e.id);
    for (const e of this.edges.values()) if (e.target === target && e.type === type) ids.add(e.id);
    const out: EdgeState[] = [];
    for (const id of ids) {
      const e = this.edge(id, base);
      if (e && e.target === target && e.type === type && e.position !== null) out.push(e);
    }
    return out.sort((a, b) => {
      const pa = a.position as string;
      const pb = b.position as string;
      return pa < pb ? -1 : pa > pb ? 1 : a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
    });
  }

  /** The query language's view: `base` with this overlay on top. Equality lookups stay indexed. */
  querySource(base: OverlayBase): QuerySource {
    const src = base.querySource();
    const live = (id: string): boolean => {
      const d = this.entities.get(id);
      return d ? !d.deleted : true;
    };
    return {
      tableMembers: (table) => {
        const members = src.tableMembers(table);
        if (this.deletions === 0 && !this.tablesTouched.has(table)) return members;
        const out = new Set<string>();
        for (const id of members) if (live(id)) out.add(id);
        for (const [id, d] of this.entities) if (!d.deleted && d.tables?.has(table)) out.add(id);
        return out;
      },
      allEntities: () => {
        const out = new Set<string>();
        for (const id of src.allEntities()) if (live(id)) out.add(id);
        for (const [id, d] of this.entities) if (d.created && !d.deleted) out.add(id);
        return out;
      },
      resolveField: (name, tables) => src.resolveField(name, tables),
      lookupEqual: (key, value: ScalarValue) => {
        const out = new Set<string>();
        for (const id of src.lookupEqual(key, value)) if (live(id)) out.add(id);
        const vk = valueKey(value);
        const hits = vk === null ? undefined : this.index.get(key)?.get(vk);
        if (hits) for (const id of hits) if (live(id)) out.add(id);
        return out;
      },
      readField: (id, key) => {
        const d = this.entities.get(id);
        if (d) {
          if (d.fields.has(key)) return d.fields.get(key);
          if (d.created) return undefined;
          const def = this.schema.fields.get(key);
          if (def && !d.facets.has(def.facetKey)) return undefined;
        }
        return src.readField(id, key);
      },
      inTable: (id, table) => {
        const d = this.entities.get(id);
        if (d && d.tables) return d.tables.has(table);
        if (d?.created) return false;
        return src.inTable(id, table);
      },
      isLive: (id) => {
        const d = this.entities.get(id);
        if (d) return !d.deleted;
        return src.isLive ? src.isLive(id) : true;
      },
    };
  }

  // ---------------------------------------------------------------- writes

  private execute(op: Operation, base: OverlayBase): { op: Operation; result: { id?: string; edgeId?: string; ids?: string[] } } {
    switch (op.op) {
      case "CreateEntity": {
        const id = op.id ?? this.ids.newEntityId();
        if (this.entities.has(id) || base.isLive(id)) throw new InvalidOperation(`entity ${id} already exists`, { entity: id });
        const tables = op.tables ?? [];
        const facets = new Set<string>();
        const tableMap = new Map<string, Fields>();
        for (const t of tables) {
          for (const f of this.schema.table(t).facets) facets.add(f);
          tableMap.set(t, {});
        }
        for (const f of op.facets ?? []) facets.add(this.schema.facet(f).key);
        const where = tables.length ? `table ${tables.join(", ")}` : `facets ${[...facets].join(", ") || "(none)"}`;
        const fields = new Map<string, FieldValue>();
        const written: Fields = {};
        for (const [name, raw] of Object.entries(op.fields ?? {})) {
          const def = this.schema.resolveField(name, facets, where);
          const v = checkFieldValue(def, raw, id);
          if (v === null) continue;
          fields.set(def.key, v);
          written[def.key] = v;
        }
        const d: EntityDelta = { created: true, deleted: false, facets, tables: tableMap, fields: new Map() };
        this.entities.set(id, d);
        for (const t of tables) this.tablesTouched.add(t);
        for (const [k, v] of fields) this.setValue(id, d, k, v);
        return { op: { ...op, id, fields: written }, result: { id } };
      }
      case "DeleteEntity": {
        const d = this.liveDelta(op.id, base);
        d.deleted = true;
        this.deletions++;
        return { op, result: {} };
      }
      case "SetField": {
        const d = this.liveDelta(op.id, base);
        const def = this.schema.resolveField(op.field, d.facets, `entity ${op.id}`);
        const v = checkFieldValue(def, op.value, op.id);
        this.setValue(op.id, d, def.key, v);
        return { op: { op: "SetField", id: op.id, field: def.key, value: v }, result: {} };
      }
      case "ApplyCRDT": {
        const d = this.liveDelta(op.id, base);
        const def = this.schema.resolveField(op.field, d.facets, `entity ${op.id}`);
        const current = this.field(op.id, def.key, base);
        this.setValue(op.id, d, def.key, applyEdit(def.key, def.type, op.id, current, op.edit));
        return { op: { ...op, field: def.key }, result: {} };
      }
      case "AddToTable": {
        const d = this.liveDelta(op.id, base);
        const t = this.schema.table(op.table);
        this.tablesOf(op.id, d, base).set(op.table, op.membership ?? {});
        for (const f of t.facets) d.facets.add(f);
        this.tablesTouched.add(op.table);
        return { op, result: {} };
      }
      case "RemoveFromTable": {
        const d = this.liveDelta(op.id, base);
        this.schema.table(op.table);
        const tables = this.tablesOf(op.id, d, base);
        if (!tables.has(op.table)) throw new InvalidOperation(`entity ${op.id} is not in table ${op.table}`, { entity: op.id, table: op.table });
        tables.delete(op.table);
        this.tablesTouched.add(op.table);
        return { op, result: {} };
      }
      case "AttachFacet": {
        const d = this.liveDelta(op.id, base);
        const facet = this.schema.facet(op.facet);
        d.facets.add(facet.key);
        const written: Fields = {};
        for (const [name, raw] of Object.entries(op.fields ?? {})) {
          const def = this.schema.resolveField(name, [facet.key], `facet ${facet.key}`);
          const v = checkFieldValue(def, raw, op.id);
          this.setValue(op.id, d, def.key, v);
          written[def.key] = v;
        }
        return { op: { ...op, facet: facet.key, fields: written }, result: {} };
      }
      case "DetachFacet": {
        const d = this.liveDelta(op.id, base);
        const facet = this.schema.facet(op.facet);
        if (!d.facets.has(facet.key)) throw new InvalidOperation(`entity ${op.id} does not carry facet ${facet.key}`, { entity: op.id, facet: facet.key });
        for (const def of facet.fields) this.setValue(op.id, d, def.key, null);
        d.facets.delete(facet.key);
        return { op: { ...op, facet: facet.key }, result: {} };
      }
      case "CreateEdge":
      case "CreateOrderedEdge": {
        const type = this.schema.edgeType(op.type);
        this.liveDelta(op.source, base);
        this.liveDelta(op.target, base);
        let position: string | null = null;
        if (op.op === "CreateOrderedEdge") {
          if (!type.ordered) throw new InvalidOperation(`edge type ${op.type} is not ordered: use create_edge`, { edgeType: op.type });
          position = this.place(op.target, op.type, op.after, op.before, undefined, base);
        } else if (type.ordered) {
          throw new InvalidOperation(`edge type ${op.type} is ordered: use create_ordered_edge`, { edgeType: op.type });
        }
        const edgeId = op.edgeId ?? this.ids.newEntityId();
        this.edges.set(edgeId, { id: edgeId, type: op.type, source: op.source, target: op.target, position, properties: op.properties ?? {}, deleted: false });
        return { op: { ...op, edgeId }, result: { edgeId } };
      }
      case "MoveOrderedEdge": {
        const e = this.edge(op.edgeId, base);
        if (!e) throw new EntityNotFound(`edge ${op.edgeId} does not exist`, { edge: op.edgeId });
        if (e.position === null) throw new InvalidOperation(`edge ${op.edgeId} is not an ordered edge`, { edge: op.edgeId });
        const position = this.place(e.target, e.type, op.after, op.before, e.id, base);
        this.edges.set(e.id, { ...e, position });
        return { op, result: {} };
      }
      case "DeleteEdge": {
        const e = this.edge(op.edgeId, base);
        if (!e) throw new EntityNotFound(`edge ${op.edgeId} does not exist`, { edge: op.edgeId });
        this.edges.set(e.id, { ...e, deleted: true });
        return { op, result: {} };
      }
      case "MergeEntities":
        this.merge(op.into, op.from, op.resolution ?? {}, base);
        return { op, result: { id: op.into } };
      case "SplitEntity": {
        const distribution: Record<string, string[]> = {};
        for (const [k, facets] of Object.entries(op.distribution)) {
          distribution[k.startsWith("$new") || k === "" ? this.ids.newEntityId() : k] = facets;
        }
        const ids = this.split(op.source, distribution, base);
        return { op: { ...op, distribution }, result: { ids } };
      }
      case "ResolveConflict":
        return { op, result: {} };
    }
  }

  private liveDelta(id: string, base: OverlayBase): EntityDelta {
    const d = this.delta(id, base);
    if (d.deleted) throw new EntityNotFound(`entity ${id} was deleted by this script's session`, { entity: id });
    return d;
  }

  private delta(id: string, base: OverlayBase): EntityDelta {
    let d = this.entities.get(id);
    if (!d) {
      if (typeof id !== "string" || id === "") throw new InvalidOperation(`expected an entity id, got ${JSON.stringify(id)}`, { entity: id });
      d = { created: false, deleted: false, facets: new Set(base.facetsOf(id)), tables: null, fields: new Map() };
      this.entities.set(id, d);
    }
    return d;
  }

  private tablesOf(id: string, d: EntityDelta, base: OverlayBase): Map<string, Fields> {
    if (!d.tables) d.tables = new Map(Object.entries(base.entity(id).tables));
    return d.tables;
  }

  private setValue(id: string, d: EntityDelta, key: string, v: FieldValue): void {
    const def = this.schema.fields.get(key);
    if (def && SCALAR_TYPES.has(def.type)) {
      let byValue = this.index.get(key);
      if (!byValue) this.index.set(key, (byValue = new Map()));
      const oldKey = d.fields.has(key) ? valueKey(d.fields.get(key)) : null;
      if (oldKey !== null) byValue.get(oldKey)?.delete(id);
      const newKey = valueKey(v);
      if (newKey !== null) {
        let ids = byValue.get(newKey);
        if (!ids) byValue.set(newKey, (ids = new Set()));
        ids.add(id);
      }
    }
    d.fields.set(key, v);
  }

  private place(target: string, type: string, after: string | undefined, before: string | undefined, moving: string | undefined, base: OverlayBase): string {
    const siblings = this.orderedEdges(target, type, base).filter((e) => e.id !== moving);
    const find = (id: string, which: string): number => {
      const i = siblings.findIndex((s) => s.id === id);
      if (i < 0) throw new InvalidOperation(`${which} edge ${id} is not a ${type} edge of ${target}`, { edge: id, target, edgeType: type });
      return i;
    };
    const pos = (i: number): string | null => (i >= 0 && i < siblings.length ? (siblings[i].position as string) : null);
    if (after !== undefined) {
      const i = find(after, "after");
      return positionBetween(pos(i), pos(i + 1), this.ids.random);
    }
    if (before !== undefined) {
      const i = find(before, "before");
      return positionBetween(pos(i - 1), pos(i), this.ids.random);
    }
    return positionBetween(pos(siblings.length - 1), null, this.ids.random);
  }

  private merge(into: string, from: string, resolution: Fields, base: OverlayBase): void {
    if (into === from) throw new InvalidOperation(`cannot merge entity ${into} into itself`, { entity: into });
    const a = this.liveDelta(into, base);
    const fromView = this.entity(from, base);
    const b = this.liveDelta(from, base);
    const aTables = this.tablesOf(into, a, base);
    for (const [t, m] of this.tablesOf(from, b, base)) {
      if (aTables.has(t)) continue;
      aTables.set(t, m);
      this.tablesTouched.add(t);
    }
    for (const f of b.facets) a.facets.add(f);
    const resolved = new Map<string, FieldValue>();
    for (const [name, v] of Object.entries(resolution)) {
      const def = this.schema.resolveField(name, a.facets, "the merged entity");
      resolved.set(def.key, checkFieldValue(def, v, into));
    }
    for (const [k, v] of Object.entries(fromView.fields)) {
      if (!resolved.has(k) && this.field(into, k, base) === null) this.setValue(into, a, k, v);
    }
    for (const [k, v] of resolved) this.setValue(into, a, k, v);
    for (const e of base.edgesOf(from)) {
      const cur = this.edges.get(e.id) ?? e;
      this.edges.set(e.id, { ...cur, source: cur.source === from ? into : cur.source, target: cur.target === from ? into : cur.target });
    }
    b.deleted = true;
    this.deletions++;
  }

  private split(source: string, distribution: Record<string, string[]>, base: OverlayBase): string[] {
    const s = this.liveDelta(source, base);
    const view = this.entity(source, base);
    const moved = new Set<string>();
    const created: string[] = [];
    const srcTables = this.tablesOf(source, s, base);
    for (const [newId, names] of Object.entries(distribution)) {
      const facets = names.map((f) => this.schema.facet(f).key);
      for (const f of facets) {
        if (!s.facets.has(f)) throw new InvalidOperation(`entity ${source} does not carry facet ${f}`, { entity: source, facet: f });
        if (moved.has(f)) throw new InvalidOperation(`facet ${f} is given to two new entities`, { facet: f });
        moved.add(f);
      }
      if (this.entities.has(newId) || base.isLive(newId)) throw new InvalidOperation(`entity ${newId} already exists`, { entity: newId });
      const d: EntityDelta = { created: true, deleted: false, facets: new Set(facets), tables: new Map(), fields: new Map() };
      this.entities.set(newId, d);
      for (const def of this.schema.fieldsOf(facets)) {
        const v = view.fields[def.key];
        if (v !== undefined && v !== null) this.setValue(newId, d, def.key, v);
      }
      for (const [t, m] of [...srcTables]) {
        const td = this.schema.tables.get(t);
        if (td && td.facets.every((f) => facets.includes(f))) {
          d.tables?.set(t, m);
          srcTables.delete(t);
          this.tablesTouched.add(t);
        }
      }
      const modules = new Set(facets.map((f) => this.schema.facet(f).module));
      for (const e of base.edgesOf(source)) {
        const et = this.schema.edgeTypes.get(e.type);
        if (!et || !modules.has(et.module)) continue;
        const cur = this.edges.get(e.id) ?? e;
        this.edges.set(e.id, { ...cur, source: cur.source === source ? newId : cur.source, target: cur.target === source ? newId : cur.target });
      }
      created.push(newId);
    }
    for (const f of moved) {
      for (const def of this.schema.facet(f).fields) this.setValue(source, s, def.key, null);
      s.facets.delete(f);
    }
    return created;
  }
}

/** A text or list edit applied to the value the script currently sees (indices are 0-based, like the store's). */
function applyEdit(key: string, type: string, entity: string, current: FieldValue, edit: Extract<Operation, { op: "ApplyCRDT" }>["edit"]): FieldValue {
  const isText = edit.kind.startsWith("text.");
  if (isText !== (type === "text")) {
    throw new InvalidOperation(`field ${key} of entity ${entity} is ${type}: core.${isText ? "text" : "list"} functions need a ${isText ? "text" : "list"} field`, { entity, field: key });
  }
  const len = isText ? String(current ?? "").length : Array.isArray(current) ? current.length : 0;
  const bounds = (i: number, max: number, what: string): void => {
    if (!Number.isInteger(i) || i < 0 || i > max) {
      throw new InvalidOperation(`${what} ${i} is out of range for field ${key} of entity ${entity} (length ${len}; indices start at 0)`, { entity, field: key, index: i, length: len });
    }
  };
  if (isText) {
    const s = String(current ?? "");
    switch (edit.kind) {
      case "text.insert":
        bounds(edit.index, len, "index");
        return s.slice(0, edit.index) + edit.text + s.slice(edit.index);
      case "text.delete":
      case "text.replace":
        bounds(edit.start, len, "start");
        bounds(edit.end, len, "end");
        if (edit.end < edit.start) bounds(edit.end, -1, "end");
        return s.slice(0, edit.start) + (edit.kind === "text.replace" ? edit.text : "") + s.slice(edit.end);
      default:
        return s;
    }
  }
  const items = Array.isArray(current) ? [...current] : [];
  const checkItem = (v: FieldValue): void => {
    if (v === null || typeof v === "object") throw new InvalidOperation(`field ${key} of entity ${entity} is a list of strings, numbers or booleans`, { entity, field: key });
  };
  switch (edit.kind) {
    case "list.insert":
      bounds(edit.index, len, "index");
      checkItem(edit.value);
      items.splice(edit.index, 0, edit.value);
      return items;
    case "list.append":
      checkItem(edit.value);
      items.push(edit.value);
      return items;
    case "list.remove": {
      const i = items.findIndex((x) => x === edit.value);
      if (i < 0) throw new InvalidOperation(`field ${key} of entity ${entity} does not contain ${JSON.stringify(edit.value)}`, { entity, field: key, value: edit.value });
      items.splice(i, 1);
      return items;
    }
    case "list.remove_at":
      bounds(edit.index, len - 1, "index");
      items.splice(edit.index, 1);
      return items;
    default:
      return items;
  }
}
