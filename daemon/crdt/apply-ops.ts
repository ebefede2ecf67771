/**
 * Executes operations against the open Automerge transaction of a bundle,
 * validating each against the schema and the current state. Any error leaves
 * the transaction to be rolled back by the caller: a bundle is all or nothing.
 */
import type { Heads } from "./automerge-backend.ts";
import type { FieldChange } from "./change-feed.ts";
import type { IdGenerator } from "./ids.ts";
import type { FieldDef, Schema } from "./schema.ts";
import type { CrdtEdit, FieldValue, Fields, Operation } from "./operations.ts";
import type { WorkspaceDoc } from "./workspace-doc.ts";
import { readObject } from "./workspace-doc.ts";
import { InvalidOperation } from "./errors.ts";
import { positionBetween } from "./fractional-index.ts";
import { FACET_PREFIX, HIDDEN_PREFIX, K_DELETED, K_MERGED_INTO, PROP_PREFIX, TABLE_PREFIX, encodeScalar, fieldInput } from "./layout.ts";
import { liveEdgesOf, writesOf } from "./op-writes.ts";
import type { WriteGate } from "./op-writes.ts";

export { liveEdgesOf };

/** What an open conflict looks like to the op executor (for ResolveConflict). */
export interface ConflictTarget {
  entity: string;
  /** The Automerge key inside the entity (or edge) map. */
  key: string;
  /** "entity" for entity maps, "edge" for edge maps. */
  container: "entity" | "edge";
  /** Explicit (merge clash) conflicts are stored as records and removed on resolution. */
  clashId?: string;
  /** A stranded edit of a merged-away entity: the choice goes to this survivor. */
  mergedInto?: string;
}

export interface OpContext {
  doc: WorkspaceDoc;
  schema: Schema;
  newId: IdGenerator;
  random: () => number;
  hlc: string;
  changes: FieldChange[];
  touched: Set<string>;
  /** Clash records written or removed by this bundle (re-examined by the store). */
  clashes: string[];
  findConflict: (id: string) => ConflictTarget | null;
  /** Candidate edge ids touching an entity (from the index); each is re-checked against the document. */
  edgeCandidates: (entity: string) => Iterable<string>;
  /** Candidate ordered-edge ids pointing at a target with a type (from the index). */
  siblingCandidates: (target: string, type: string) => Iterable<string>;
  /** The position every copy shows for an edge whose position is in conflict (latest HLC), if any. */
  provisionalPosition?: (edgeId: string) => string | undefined;
  /** Capabilities: every operation's writes (op-writes.ts) pass it before anything is written. */
  gate?: WriteGate;
}

/** What an operation made: new ids, and for field writes the full key the name resolved to. */
export type OpResult = { id?: string; edgeId?: string; ids?: string[]; field?: string } | undefined;

export function applyOperation(ctx: OpContext, op: Operation): OpResult {
  if (ctx.gate) ctx.gate(op, writesOf(ctx, op));
  switch (op.op) {
    case "CreateEntity":
      return { id: createEntity(ctx, op.id, op.tables ?? [], op.facets ?? [], op.fields ?? {}) };
    case "DeleteEntity": {
      const e = ctx.doc.live(op.id);
      ctx.doc.be.put(e.obj, K_DELETED, ctx.hlc);
      for (const edgeId of liveEdgesOf(ctx, e.id)) deleteEdge(ctx, edgeId);
      note(ctx, "entity", e.id, "deleted", null, ctx.hlc);
      return undefined;
    }
    case "SetField":
      return { field: setField(ctx, op.id, op.field, op.value) };
    case "ApplyCRDT":
      return { field: applyCrdt(ctx, op.id, op.field, op.edit) };
    case "AddToTable": {
      const e = ctx.doc.live(op.id);
      ctx.schema.table(op.table);
      const key = TABLE_PREFIX + op.table;
      const old = ctx.doc.be.get(e.obj, key);
      ctx.doc.be.put(e.obj, key, JSON.stringify(op.membership ?? {}));
      note(ctx, "table", e.id, op.table, old === undefined ? null : true, true);
      return undefined;
    }
    case "RemoveFromTable": {
      const e = ctx.doc.live(op.id);
      const table = ctx.schema.table(op.table);
      const key = TABLE_PREFIX + op.table;
      if (ctx.doc.be.get(e.obj, key) === undefined) {
        throw new InvalidOperation(`entity ${e.id} is not in table ${op.table}`, { entity: e.id, table: op.table });
      }
      // The facets the table brought stay attached (their data is kept): make them explicit.
      const facets = new Set(ctx.doc.facets(e.obj));
      ctx.doc.be.delete(e.obj, key);
      for (const f of table.facets) if (facets.has(f)) ctx.doc.be.put(e.obj, FACET_PREFIX + f, true);
      note(ctx, "table", e.id, op.table, true, null);
      return undefined;
    }
    case "AttachFacet": {
      const e = ctx.doc.live(op.id);
      const facet = ctx.schema.facet(op.facet);
      ctx.doc.be.put(e.obj, FACET_PREFIX + facet.key, true);
      // Restore values a preserving detach kept aside.
      for (const def of facet.fields) {
        const hidden = HIDDEN_PREFIX + def.key;
        const v = ctx.doc.be.getWithType(e.obj, hidden);
        if (v) {
          const value = ctx.doc.readField(e.obj, def, undefined, hidden);
          ctx.doc.be.delete(e.obj, hidden);
          ctx.doc.writeField(e.id, e.obj, def, value);
          note(ctx, "field", e.id, def.key, null, value);
        }
      }
      note(ctx, "facet", e.id, facet.key, null, true);
      for (const [name, value] of Object.entries(op.fields ?? {})) {
        const def = ctx.schema.resolveField(name, [facet.key], `facet ${facet.key}`);
        writeFieldNoted(ctx, e.id, e.obj, def, value);
      }
      return undefined;
    }
    case "DetachFacet": {
      const e = ctx.doc.live(op.id);
      const facet = ctx.schema.facet(op.facet);
      if (!ctx.doc.facets(e.obj).includes(facet.key)) {
        throw new InvalidOperation(`entity ${e.id} does not carry facet ${facet.key}`, { entity: e.id, facet: facet.key });
      }
      for (const def of facet.fields) {
        if (ctx.doc.be.get(e.obj, def.key) === undefined) continue;
        const value = ctx.doc.readField(e.obj, def);
        if (op.preserve) moveToHidden(ctx, e.obj, def, value);
        else ctx.doc.be.delete(e.obj, def.key);
        note(ctx, "field", e.id, def.key, value, null);
      }
      ctx.doc.be.put(e.obj, FACET_PREFIX + facet.key, false);
      note(ctx, "facet", e.id, facet.key, true, null);
      return undefined;
    }
    case "CreateEdge":
      if (ctx.schema.edgeType(op.type).ordered) {
        throw new InvalidOperation(`edge type ${op.type} is ordered: use create_ordered_edge`, { edgeType: op.type });
      }
      return { edgeId: createEdge(ctx, op.edgeId, op.type, op.source, op.target, op.properties, null) };
    case "CreateOrderedEdge": {
      const type = ctx.schema.edgeType(op.type);
      if (!type.ordered) {
        throw new InvalidOperation(`edge type ${op.type} is not ordered: use create_edge`, { edgeType: op.type });
      }
      const pos = placeAmongSiblings(ctx, op.target, op.type, op.after, op.before, undefined);
      return { edgeId: createEdge(ctx, op.edgeId, op.type, op.source, op.target, op.properties, pos) };
    }
    case "MoveOrderedEdge": {
      const edge = ctx.doc.liveEdge(op.edgeId);
      if (edge.position === null) {
        throw new InvalidOperation(`edge ${op.edgeId} is not an ordered edge`, { edge: op.edgeId });
      }
      const pos = placeAmongSiblings(ctx, edge.target, edge.type, op.after, op.before, edge.id);
      ctx.doc.be.put(ctx.doc.edgeObj(edge.id) as string, "pos", pos);
      note(ctx, "edge", edge.id, "moved", edge.position, pos);
      return undefined;
    }
    case "DeleteEdge":
      ctx.doc.liveEdge(op.edgeId);
      deleteEdge(ctx, op.edgeId);
      return undefined;
    case "MergeEntities":
      mergeEntities(ctx, op.into, op.from, op.resolution ?? {});
      return undefined;
    case "SplitEntity":
      return { ids: splitEntity(ctx, op.source, op.distribution) };
    case "ResolveConflict": {
      const c = ctx.findConflict(op.conflictId);
      if (!c) throw new InvalidOperation(`conflict ${op.conflictId} is not open`, { conflict: op.conflictId });
      resolveConflict(ctx, c, op.value);
      return undefined;
    }
  }
}

function note(ctx: OpContext, kind: FieldChange["kind"], entity: string, field: string, oldValue: FieldValue | undefined, newValue: FieldValue | undefined): void {
  ctx.changes.push({ kind, entity, field, oldValue, newValue });
  ctx.touched.add(entity);
  if (kind === "entity") ctx.doc.invalidateLiveness();
  if (kind !== "field") ctx.doc.invalidate(entity);
}

function createEntity(ctx: OpContext, id: string | undefined, tables: string[], facets: string[], fields: Fields): string {
  const entityId = id ?? ctx.newId();
  // Generated ids are unique by construction; only a caller-chosen id can collide.
  if (id !== undefined && ctx.doc.entityObj(entityId)) {
    throw new InvalidOperation(`entity ${entityId} already exists`, { entity: entityId });
  }
  const facetSet = new Set<string>();
  for (const t of tables) for (const f of ctx.schema.table(t).facets) facetSet.add(f);
  const explicit = facets.map((f) => ctx.schema.facet(f).key);
  for (const f of explicit) facetSet.add(f);
  const where = tables.length ? `table ${tables.join(", ")}` : `facets ${[...facetSet].join(", ") || "(none)"}`;

  // One putObject with the initial scalar values: far cheaper than a put per key.
  const initial: Record<string, string | number | boolean> = {};
  for (const t of tables) initial[TABLE_PREFIX + t] = "{}";
  for (const f of explicit) initial[FACET_PREFIX + f] = true;
  const crdt: [FieldDef, FieldValue][] = [];
  const noted: [string, FieldValue][] = [];
  for (const [name, raw] of Object.entries(fields)) {
    const def = ctx.schema.resolveField(name, facetSet, where);
    const value = fieldInput(def, raw);
    if (value === null) continue;
    if (def.type === "text" || def.type === "list") {
      crdt.push([def, value]);
      continue;
    }
    const enc = encodeScalar(def, value, entityId);
    if (enc) initial[def.key] = enc.value;
    noted.push([def.key, value]);
  }
  const obj = ctx.doc.be.putObject(ctx.doc.entities, entityId, initial);
  // Typed puts where a JS number alone would lose the int/float distinction.
  for (const [name, value] of Object.entries(fields)) {
    const def = ctx.schema.resolveField(name, facetSet, where);
    if (def.type === "float" && typeof value === "number" && Number.isInteger(value)) ctx.doc.be.put(obj, def.key, value, "f64");
  }
  for (const [def, value] of crdt) {
    ctx.doc.writeField(entityId, obj, def, value);
    noted.push([def.key, value]);
  }
  note(ctx, "entity", entityId, "created", null, ctx.hlc);
  for (const t of tables) note(ctx, "table", entityId, t, null, true);
  for (const f of facetSet) note(ctx, "facet", entityId, f, null, true);
  for (const [k, v] of noted) note(ctx, "field", entityId, k, null, v);
  return entityId;
}

function setField(ctx: OpContext, id: string, name: string, value: FieldValue): string {
  const e = ctx.doc.live(id);
  const def = ctx.schema.resolveField(name, ctx.doc.facets(e.obj, undefined, e.id), `entity ${e.id}`);
  writeFieldNoted(ctx, e.id, e.obj, def, value);
  return def.key;
}

function writeFieldNoted(ctx: OpContext, entity: string, obj: string, def: FieldDef, raw: FieldValue): void {
  const value = fieldInput(def, raw);
  const old = ctx.doc.readField(obj, def);
  ctx.doc.writeField(entity, obj, def, value);
  note(ctx, "field", entity, def.key, old, value);
}

function moveToHidden(ctx: OpContext, obj: string, def: FieldDef, value: FieldValue): void {
  ctx.doc.be.delete(obj, def.key);
  if (def.type === "text" || def.type === "list" || def.type === "json") {
    ctx.doc.be.put(obj, HIDDEN_PREFIX + def.key, JSON.stringify(value));
  } else if (value !== null) {
    const enc = encodeScalar(def, value, "");
    if (enc) ctx.doc.be.put(obj, HIDDEN_PREFIX + def.key, enc.value, enc.datatype);
  }
}

function applyCrdt(ctx: OpContext, id: string, name: string, edit: CrdtEdit): string {
  const e = ctx.doc.live(id);
  const def = ctx.schema.resolveField(name, ctx.doc.facets(e.obj, undefined, e.id), `entity ${e.id}`);
  const old = ctx.doc.readField(e.obj, def);
  const be = ctx.doc.be;
  const kind = edit.kind.startsWith("text.") ? "text" : "list";
  const obj = ctx.doc.crdtObject(e.id, e.obj, def, kind);
  const len = be.length(obj);
  const bounds = (i: number, max: number, what: string): void => {
    if (!Number.isInteger(i) || i < 0 || i > max) {
      throw new InvalidOperation(`${what} ${i} is out of range for field ${def.key} of entity ${e.id} (length ${len})`, {
        entity: e.id,
        field: def.key,
        index: i,
        length: len,
      });
    }
  };
  switch (edit.kind) {
    case "text.insert":
      bounds(edit.index, len, "index");
      be.splice(obj, edit.index, 0, edit.text);
      break;
    case "text.delete":
      bounds(edit.start, len, "start");
      bounds(edit.end, len, "end");
      if (edit.end < edit.start) bounds(edit.end, -1, "end");
      be.splice(obj, edit.start, edit.end - edit.start);
      break;
    case "text.replace":
      bounds(edit.start, len, "start");
      bounds(edit.end, len, "end");
      if (edit.end < edit.start) bounds(edit.end, -1, "end");
      be.splice(obj, edit.start, edit.end - edit.start, edit.text);
      break;
    case "list.insert":
      bounds(edit.index, len, "index");
      ctx.doc.checkListValue(e.id, def, edit.value);
      be.insert(obj, edit.index, edit.value as string | number | boolean);
      break;
    case "list.append":
      ctx.doc.checkListValue(e.id, def, edit.value);
      be.insert(obj, len, edit.value as string | number | boolean);
      break;
    case "list.remove": {
      const items = readObject(be, obj, "list") as FieldValue[];
      const i = items.findIndex((x) => x === edit.value);
      if (i < 0) {
        throw new InvalidOperation(`field ${def.key} of entity ${e.id} does not contain ${JSON.stringify(edit.value)}`, {
          entity: e.id,
          field: def.key,
          value: edit.value,
        });
      }
      be.delete(obj, i);
      break;
    }
    case "list.remove_at":
      bounds(edit.index, len - 1, "index");
      be.delete(obj, edit.index);
      break;
  }
  note(ctx, "field", e.id, def.key, old, ctx.doc.readField(e.obj, def));
  return def.key;
}

function createEdge(
  ctx: OpContext,
  edgeId: string | undefined,
  type: string,
  source: string,
  target: string,
  properties: Fields | undefined,
  pos: string | null,
): string {
  ctx.schema.edgeType(type);
  const s = ctx.doc.live(source);
  const t = ctx.doc.live(target);
  const id = edgeId ?? ctx.newId();
  if (ctx.doc.edgeObj(id)) throw new InvalidOperation(`edge ${id} already exists`, { edge: id });
  const initial: Record<string, string> = { type, source: s.id, target: t.id };
  if (pos !== null) initial.pos = pos;
  for (const [k, v] of Object.entries(properties ?? {})) initial[PROP_PREFIX + k] = JSON.stringify(v);
  ctx.doc.be.putObject(ctx.doc.edges, id, initial);
  ctx.changes.push({ kind: "edge", entity: id, field: "created", oldValue: null, newValue: { type, source: s.id, target: t.id } });
  ctx.touched.add(s.id);
  ctx.touched.add(t.id);
  return id;
}

function deleteEdge(ctx: OpContext, edgeId: string): void {
  const obj = ctx.doc.edgeObj(edgeId);
  if (!obj) return;
  const e = ctx.doc.edge(edgeId);
  ctx.doc.be.put(obj, K_DELETED, ctx.hlc);
  ctx.changes.push({ kind: "edge", entity: edgeId, field: "deleted", oldValue: e ? { type: e.type, source: e.source, target: e.target } : null, newValue: null });
}

/**
 * Edges created or re-attached earlier in the same bundle: no index knows them under their new
 * endpoints yet (a merge of an entity that an earlier merge in the bundle gave edges to).
 */
export function bundleEdges(ctx: OpContext): string[] {
  const out: string[] = [];
  for (const c of ctx.changes) if (c.kind === "edge" && (c.field === "created" || c.field === "moved")) out.push(c.entity);
  return out;
}

/** Siblings of (target, type) in position order, tie-broken by edge id. */
export function orderedSiblings(
  ctx: Pick<OpContext, "doc" | "siblingCandidates" | "provisionalPosition">,
  target: string,
  type: string,
  heads?: Heads,
): { id: string; pos: string }[] {
  const out: { id: string; pos: string }[] = [];
  for (const id of new Set(ctx.siblingCandidates(target, type))) {
    const e = ctx.doc.edge(id, heads);
    if (!e || e.deleted || e.target !== target || e.type !== type || e.position === null) continue;
    // Place relative to what the user sees, not to Automerge's internal pick among conflicting moves.
    const shown = heads ? undefined : ctx.provisionalPosition?.(id);
    out.push({ id, pos: shown ?? e.position });
  }
  out.sort((a, b) => (a.pos < b.pos ? -1 : a.pos > b.pos ? 1 : a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  return out;
}

function placeAmongSiblings(
  ctx: OpContext,
  target: string,
  type: string,
  after: string | undefined,
  before: string | undefined,
  moving: string | undefined,
): string {
  const siblings = orderedSiblings(ctx, ctx.doc.live(target).id, type).filter((s) => s.id !== moving);
  const find = (id: string, which: string): number => {
    const i = siblings.findIndex((s) => s.id === id);
    if (i < 0) {
      throw new InvalidOperation(`${which} edge ${id} is not a ${type} edge of ${target}`, { edge: id, target, edgeType: type });
    }
    return i;
  };
  let lo: string | null;
  let hi: string | null;
  if (after !== undefined) {
    const i = find(after, "after");
    lo = siblings[i].pos;
    hi = nextDistinct(siblings, i, lo);
  } else if (before !== undefined) {
    const i = find(before, "before");
    hi = siblings[i].pos;
    lo = prevDistinct(siblings, i, hi);
  } else {
    lo = siblings.length ? siblings[siblings.length - 1].pos : null;
    hi = null;
  }
  return positionBetween(lo, hi, ctx.random);
}

function nextDistinct(s: { pos: string }[], i: number, pos: string): string | null {
  for (let j = i + 1; j < s.length; j++) if (s[j].pos !== pos) return s[j].pos;
  return null;
}

function prevDistinct(s: { pos: string }[], i: number, pos: string): string | null {
  for (let j = i - 1; j >= 0; j--) if (s[j].pos !== pos) return s[j].pos;
  return null;
}

function mergeEntities(ctx: OpContext, intoId: string, fromId: string, resolution: Fields): void {
  const into = ctx.doc.live(intoId);
  const from = ctx.doc.live(fromId);
  if (into.id === from.id) throw new InvalidOperation(`cannot merge entity ${into.id} into itself`, { entity: into.id });
  const be = ctx.doc.be;
  const intoFacets = new Set(ctx.doc.facets(into.obj));
  const fromState = ctx.doc.state(from.id, from.obj);
  for (const [table, membership] of Object.entries(fromState.tables)) {
    if (be.get(into.obj, TABLE_PREFIX + table) === undefined) {
      be.put(into.obj, TABLE_PREFIX + table, JSON.stringify(membership));
      note(ctx, "table", into.id, table, null, true);
    }
  }
  for (const f of fromState.facets) {
    if (!intoFacets.has(f)) {
      be.put(into.obj, FACET_PREFIX + f, true);
      note(ctx, "facet", into.id, f, null, true);
    }
  }
  const resolvedKeys = new Map<string, FieldValue>();
  for (const [name, value] of Object.entries(resolution)) {
    resolvedKeys.set(ctx.schema.resolveField(name, new Set([...intoFacets, ...fromState.facets]), `the merged entity`).key, value);
  }
  for (const def of ctx.schema.fieldsOf(new Set([...intoFacets, ...fromState.facets]))) {
    const hasFrom = be.get(from.obj, def.key) !== undefined;
    const hasInto = be.get(into.obj, def.key) !== undefined;
    const vFrom = hasFrom ? ctx.doc.readField(from.obj, def) : null;
    const vInto = hasInto ? ctx.doc.readField(into.obj, def) : null;
    if (resolvedKeys.has(def.key)) {
      writeFieldNoted(ctx, into.id, into.obj, def, resolvedKeys.get(def.key) ?? null);
      continue;
    }
    if (!hasFrom) continue;
    if (!hasInto) {
      writeFieldNoted(ctx, into.id, into.obj, def, vFrom);
    } else if (JSON.stringify(vFrom) !== JSON.stringify(vInto)) {
      // A clash nobody resolved: keep the survivor's value and record the conflict.
      const clashId = `clash-${into.id}-${def.key}`;
      ctx.clashes.push(clashId);
      be.put(
        ctx.doc.clashes,
        clashId,
        JSON.stringify({
          entity: into.id,
          field: def.key,
          hlc: ctx.hlc,
          values: [
            { value: vInto, from: into.id },
            { value: vFrom, from: from.id },
          ],
        }),
      );
    }
  }
  // Edges follow the survivor.
  for (const edgeId of liveEdgesOf(ctx, from.id)) {
    const obj = ctx.doc.edgeObj(edgeId) as string;
    const e = ctx.doc.edge(edgeId);
    if (!e) continue;
    if (e.source === from.id) be.put(obj, "source", into.id);
    if (e.target === from.id) be.put(obj, "target", into.id);
    ctx.changes.push({ kind: "edge", entity: edgeId, field: "moved", oldValue: { source: e.source, target: e.target }, newValue: { source: e.source === from.id ? into.id : e.source, target: e.target === from.id ? into.id : e.target } });
  }
  be.put(from.obj, K_MERGED_INTO, into.id);
  note(ctx, "entity", from.id, "merged", null, into.id);
  ctx.touched.add(into.id);
}

function splitEntity(ctx: OpContext, sourceId: string, distribution: Record<string, string[]>): string[] {
  const src = ctx.doc.live(sourceId);
  const be = ctx.doc.be;
  const srcFacets = new Set(ctx.doc.facets(src.obj));
  const created: string[] = [];
  const moved = new Set<string>();
  for (const [newIdRaw, facetNames] of Object.entries(distribution)) {
    const facets = facetNames.map((f) => ctx.schema.facet(f).key);
    for (const f of facets) {
      if (!srcFacets.has(f)) throw new InvalidOperation(`entity ${src.id} does not carry facet ${f}`, { entity: src.id, facet: f });
      if (moved.has(f)) throw new InvalidOperation(`facet ${f} is given to two new entities`, { facet: f });
      moved.add(f);
    }
    const newId = newIdRaw.startsWith("$new") || newIdRaw === "" ? ctx.newId() : newIdRaw;
    const fields: Fields = {};
    for (const def of ctx.schema.fieldsOf(facets)) {
      if (be.get(src.obj, def.key) !== undefined) fields[def.key] = ctx.doc.readField(src.obj, def);
    }
    createEntity(ctx, newId, [], facets, fields);
    const newObj = ctx.doc.entityObj(newId) as string;
    // Table memberships whose facets all moved go along.
    for (const [table, membership] of Object.entries(ctx.doc.state(src.id, src.obj).tables)) {
      const t = ctx.schema.tables.get(table);
      if (t && t.facets.every((f) => facets.includes(f))) {
        be.put(newObj, TABLE_PREFIX + table, JSON.stringify(membership));
        be.delete(src.obj, TABLE_PREFIX + table);
        note(ctx, "table", newId, table, null, true);
        note(ctx, "table", src.id, table, true, null);
      }
    }
    // Edges follow their facet: an edge type declared by the module of a moved facet.
    const modules = new Set(facets.map((f) => ctx.schema.facet(f).module));
    for (const edgeId of liveEdgesOf(ctx, src.id)) {
      const e = ctx.doc.edge(edgeId);
      const et = e ? ctx.schema.edgeTypes.get(e.type) : undefined;
      if (!e || !et || !modules.has(et.module)) continue;
      const obj = ctx.doc.edgeObj(edgeId) as string;
      if (e.source === src.id) be.put(obj, "source", newId);
      if (e.target === src.id) be.put(obj, "target", newId);
      ctx.changes.push({ kind: "edge", entity: edgeId, field: "moved", oldValue: { source: e.source, target: e.target }, newValue: { source: e.source === src.id ? newId : e.source, target: e.target === src.id ? newId : e.target } });
    }
    created.push(newId);
  }
  for (const f of moved) {
    for (const def of ctx.schema.facet(f).fields) {
      if (be.get(src.obj, def.key) !== undefined) {
        note(ctx, "field", src.id, def.key, ctx.doc.readField(src.obj, def), null);
        be.delete(src.obj, def.key);
      }
    }
    be.put(src.obj, FACET_PREFIX + f, false);
    note(ctx, "facet", src.id, f, true, null);
  }
  return created;
}

function resolveConflict(ctx: OpContext, c: ConflictTarget, value: FieldValue): void {
  const be = ctx.doc.be;
  if (c.clashId) {
    be.delete(ctx.doc.clashes, c.clashId);
    ctx.clashes.push(c.clashId);
  }
  if (c.container === "edge") {
    const obj = ctx.doc.edgeObj(c.entity);
    if (!obj) throw new InvalidOperation(`edge ${c.entity} of the conflict no longer exists`, { edge: c.entity });
    // Re-writing the key supersedes every concurrent value.
    be.put(obj, c.key, typeof value === "string" ? value : JSON.stringify(value));
    ctx.changes.push({ kind: "edge", entity: c.entity, field: c.key === "pos" ? "moved" : "properties", oldValue: null, newValue: value });
    return;
  }
  const obj = ctx.doc.entityObj(c.entity);
  if (!obj) throw new InvalidOperation(`entity ${c.entity} of the conflict no longer exists`, { entity: c.entity });
  const def = ctx.schema.fields.get(c.key);
  if (c.mergedInto !== undefined && def) {
    // The chosen value goes to the survivor; clearing the tombstone's key retires the stranded edit.
    const survivor = ctx.doc.live(c.entity);
    writeFieldNoted(ctx, survivor.id, survivor.obj, def, value);
    const old = ctx.doc.readField(obj, def);
    be.delete(obj, c.key);
    note(ctx, "field", c.entity, c.key, old, null);
    return;
  }
  if (def) {
    writeFieldNoted(ctx, c.entity, obj, def, value);
  } else {
    // Structural keys (merge target, deletion, membership): write the chosen raw value.
    if (value === null) be.delete(obj, c.key);
    else be.put(obj, c.key, typeof value === "object" ? JSON.stringify(value) : value);
    note(ctx, c.key === K_MERGED_INTO ? "entity" : "field", c.entity, c.key, null, value);
  }
}
