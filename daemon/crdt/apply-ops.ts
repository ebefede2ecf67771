/**
 * Executes operations against the open Automerge transaction of a bundle,
 * validating each against the schema and the current state. Any error leaves
 * the transaction to be rolled back by the caller: a bundle is all or nothing.
 */
import type { CrdtEdit, FieldValue, Operation } from "./operations.ts";
import { readObject } from "./workspace-doc.ts";
import { InvalidOperation } from "./errors.ts";
import { FACET_PREFIX, HIDDEN_PREFIX, K_DELETED, K_MERGED_INTO, TABLE_PREFIX } from "./layout.ts";
import { liveEdgesOf, writesOf } from "./op-writes.ts";

import type { ConflictTarget, OpContext, OpResult } from "./apply-context.ts";
import { note, writeFieldNoted, moveToHidden } from "./apply-context.ts";
import { createEntity, mergeEntities, splitEntity } from "./apply-entities.ts";
import { createEdge, deleteEdge, placeAmongSiblings } from "./apply-edges.ts";
export type { ConflictTarget, OpContext, OpResult } from "./apply-context.ts";
export { bundleEdges, orderedSiblings } from "./apply-edges.ts";

export { liveEdgesOf };

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

function setField(ctx: OpContext, id: string, name: string, value: FieldValue): string {
  const e = ctx.doc.live(id);
  const def = ctx.schema.resolveField(name, ctx.doc.facets(e.obj, undefined, e.id), `entity ${e.id}`);
  writeFieldNoted(ctx, e.id, e.obj, def, value);
  return def.key;
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
