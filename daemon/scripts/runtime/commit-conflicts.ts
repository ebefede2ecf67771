/**
 * Commit conflicts: a field the session wrote that canonical changed since the session's
 * snapshot to a value other than the script's; and structural ones, an operation whose target
 * canonical changed under it (a deleted entity that canonical edited, an edited one canonical
 * deleted, an ordered edge both moved, a table membership both changed, a facet detached that
 * canonical wrote to, a merge or split of an entity canonical changed). The script's ops have
 * no priority: a person chooses, per conflict or all at once. Where canonical now holds what the
 * script wrote, the two agree and there is nothing to choose.
 */
import type { EntityView, FieldValue, Operation, WorkspaceStore } from "../../crdt/index.ts";
import type { Overlay } from "./overlay.ts";
import type { OverlayBase } from "./overlay-base.ts";
import type { SessionMeta } from "./session-log.ts";
import type { SessionConflict } from "../../../protocol/index.ts";
// The wire's own words (protocol/): the daemon keeps no second copy of them.
export type { SessionConflict };

export async function findCommitConflicts(store: WorkspaceStore, meta: SessionMeta, overlay: Overlay, base: OverlayBase): Promise<SessionConflict[]> {
  const seen = new Set<string>();
  const out: SessionConflict[] = [];
  for (const op of overlay.ops) {
    if (op.op !== "SetField" && op.op !== "ApplyCRDT") continue;
    const id = `${op.id}:${op.field}`;
    if (seen.has(id)) continue;
    seen.add(id);
    if (!store.entityExists(op.id, { heads: meta.heads })) continue; // made by this session
    const snapshotValue = read(() => store.getField(op.id, op.field, { heads: meta.heads }));
    let entityDeleted = false;
    const canonicalValue = read(() => store.getField(op.id, op.field), () => (entityDeleted = true));
    if (!entityDeleted && same(snapshotValue, canonicalValue)) continue;
    const scriptValue = read(() => overlay.field(op.id, op.field, base));
    // Both sides agree (canonical reached the value the script wrote): nothing for a person to choose.
    if (!entityDeleted && same(scriptValue, canonicalValue)) continue;
    out.push({
      id,
      entity: op.id,
      field: op.field,
      scriptValue,
      canonicalValue,
      snapshotValue,
      changedBy: null,
      entityDeleted,
      kind: "field",
    });
  }
  out.push(...structuralConflicts(store, meta, overlay.ops));
  // Who changed it is a read of the history's records, once every conflict is known.
  for (const c of out) c.changedBy = await changedBy(store, meta, c.entity);
  return out;
}

/** What an entity is now and was at the snapshot (null: absent, deleted or merged away). */
interface Sides {
  then: EntityView | null;
  now: EntityView | null;
}

function structuralConflicts(store: WorkspaceStore, meta: SessionMeta, ops: readonly Operation[]): SessionConflict[] {
  const at = { heads: meta.heads };
  const sides = new Map<string, Sides>();
  const view = (id: string): Sides => {
    let s = sides.get(id);
    if (!s) {
      s = { then: entityAt(store, id, at), now: entityAt(store, id, {}) };
      sides.set(id, s);
    }
    return s;
  };
  const byId = new Map<string, SessionConflict>();
  const add = (entity: string, field: string, opIndex: number, script: string, canonical: string, snapshot: string, entityDeleted: boolean): void => {
    const id = `${entity}:${field}`;
    const c = byId.get(id);
    if (c) {
      c.ops?.push(opIndex);
      return;
    }
    byId.set(id, { id, entity, field, kind: "structure", ops: [opIndex], scriptValue: script, canonicalValue: canonical, snapshotValue: snapshot, changedBy: null, entityDeleted });
  };
  /** An entity that existed at the snapshot and is gone now: every op on it conflicts. */
  const gone = (id: string, i: number, what: string): boolean => {
    const s = view(id);
    if (s.then && !s.now) {
      add(id, "@deleted", i, what, "the entity was deleted (or merged away) in canonical", "the entity existed", true);
      return true;
    }
    return false;
  };
  /** An entity canonical changed in any way since the snapshot. */
  const changed = (id: string, i: number, what: string): void => {
    const s = view(id);
    if (!s.then || !s.now || sameEntity(s.then, s.now)) return;
    add(id, "@entity", i, what, `canonical changed it: ${describeChange(s.then, s.now)}`, "as it was when the script started", false);
  };
  ops.forEach((op, i) => {
    switch (op.op) {
      case "DeleteEntity":
        if (!gone(op.id, i, "delete the entity")) changed(op.id, i, "delete the entity");
        break;
      case "MergeEntities":
        for (const id of [op.into, op.from]) if (!gone(id, i, `merge ${op.from} into ${op.into}`)) changed(id, i, `merge ${op.from} into ${op.into}`);
        break;
      case "SplitEntity":
        if (!gone(op.source, i, "split the entity")) changed(op.source, i, "split the entity");
        break;
      case "AddToTable":
      case "RemoveFromTable": {
        const verb = op.op === "AddToTable" ? `add it to table ${op.table}` : `remove it from table ${op.table}`;
        if (gone(op.id, i, verb)) break;
        const s = view(op.id);
        if (!s.then || !s.now) break;
        const before = op.table in s.then.tables;
        const after = op.table in s.now.tables;
        if (before !== after) add(op.id, `@table:${op.table}`, i, verb, after ? `canonical added it to table ${op.table}` : `canonical removed it from table ${op.table}`, before ? "in the table" : "not in the table", false);
        break;
      }
      case "AttachFacet":
      case "DetachFacet": {
        const verb = op.op === "AttachFacet" ? `attach facet ${op.facet}` : `detach facet ${op.facet}`;
        if (gone(op.id, i, verb)) break;
        const s = view(op.id);
        if (!s.then || !s.now) break;
        const facet = store.schema.facets.get(op.facet) ?? [...store.schema.facets.values()].find((f) => f.key.toLowerCase() === op.facet.toLowerCase());
        const keys = facet ? facet.fields.map((f) => f.key) : [];
        const written = keys.filter((k) => !same(s.then?.fields[k] ?? null, s.now?.fields[k] ?? null));
        const attachment = s.then.facets.includes(facet?.key ?? op.facet) !== s.now.facets.includes(facet?.key ?? op.facet);
        if (written.length || attachment) {
          add(op.id, `@facet:${facet?.key ?? op.facet}`, i, verb, attachment ? `canonical ${s.now.facets.includes(facet?.key ?? op.facet) ? "attached" : "detached"} it` : `canonical wrote ${written.join(", ")}`, "as it was when the script started", false);
        }
        break;
      }
      case "MoveOrderedEdge":
      case "DeleteEdge": {
        const then = store.edge(op.edgeId, at);
        const now = store.edge(op.edgeId);
        const verb = op.op === "MoveOrderedEdge" ? "move the edge" : "delete the edge";
        if (then && !now) add(op.edgeId, "@deleted", i, verb, "the edge was deleted in canonical", "the edge existed", true);
        else if (then && now && op.op === "MoveOrderedEdge" && then.position !== now.position) add(op.edgeId, "@position", i, verb, "canonical moved it too", "its position when the script started", false);
        else if (then && now && op.op === "DeleteEdge" && (then.position !== now.position || !same(then.properties, now.properties))) add(op.edgeId, "@edge", i, verb, "canonical changed it", "as it was when the script started", false);
        break;
      }
      case "CreateEdge":
      case "CreateOrderedEdge":
        for (const id of [op.source, op.target]) gone(id, i, `link ${op.source} to ${op.target}`);
        break;
      case "SetField":
      case "ApplyCRDT":
      case "CreateEntity":
      case "ResolveConflict":
        break;
    }
  });
  return [...byId.values()];
}

function entityAt(store: WorkspaceStore, id: string, opts: { heads?: string[] }): EntityView | null {
  try {
    const e = store.getEntity(id, opts);
    return e.id === id ? e : null;
  } catch {
    return null;
  }
}

function sameEntity(a: EntityView, b: EntityView): boolean {
  return same([...a.facets].sort() as FieldValue, [...b.facets].sort() as FieldValue) && same(Object.keys(a.tables).sort() as FieldValue, Object.keys(b.tables).sort() as FieldValue) && same(sorted(a.fields), sorted(b.fields));
}

function sorted(fields: Record<string, FieldValue>): FieldValue {
  return Object.fromEntries(Object.entries(fields).sort(([x], [y]) => (x < y ? -1 : 1)));
}

/** What canonical did to an entity, in words: the first few field changes and membership changes. */
function describeChange(then: EntityView, now: EntityView): string {
  const parts: string[] = [];
  const keys = new Set([...Object.keys(then.fields), ...Object.keys(now.fields)]);
  for (const k of keys) {
    const a = then.fields[k] ?? null;
    const b = now.fields[k] ?? null;
    if (!same(a, b)) parts.push(`${k} ${JSON.stringify(a)} → ${JSON.stringify(b)}`);
  }
  for (const t of Object.keys(now.tables)) if (!(t in then.tables)) parts.push(`joined table ${t}`);
  for (const t of Object.keys(then.tables)) if (!(t in now.tables)) parts.push(`left table ${t}`);
  return parts.slice(0, 3).join("; ") + (parts.length > 3 ? `; and ${parts.length - 3} more` : "");
}

async function changedBy(store: WorkspaceStore, meta: SessionMeta, entity: string): Promise<SessionConflict["changedBy"]> {
  const by = (await store.history({ entity, limit: 20 })).find((h) => h.meta.hlc > meta.startHlc && !(h.meta.actor.kind === "script" && h.meta.actor.runId === meta.runId));
  return by ? { actor: by.meta.actor, peer: by.meta.peer, hlc: by.meta.hlc, bundle: by.hash } : null;
}

function read(f: () => FieldValue, onMissing?: () => void): FieldValue {
  try {
    return f();
  } catch {
    onMissing?.();
    return null;
  }
}

function same(a: FieldValue, b: FieldValue): boolean {
  return a === b || JSON.stringify(a) === JSON.stringify(b);
}
