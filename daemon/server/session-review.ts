/**
 * Sessions on the wire: the runtime's session summary as `sessions.list`
 * shows it, and a session's ops as a person reviews them (`sessions.get`):
 * entity names, the canonical value a write replaces, no-op writes flagged,
 * created entities with the values they end the session with.
 */
import { EntityNotFound } from "../crdt/vocabulary.ts";
import { entityName } from "../crdt/index.ts";
import type { FieldValue, Operation, WorkspaceStore } from "../crdt/index.ts";
import type { ScriptRuntime, SessionSummary } from "../scripts/runtime/index.ts";
import type { SessionChange, SessionInfo } from "../../protocol/index.ts";

export async function sessionOf(rt: ScriptRuntime, id: string): Promise<SessionSummary> {
  const all = await rt.sessions();
  const s = all.find((x) => x.id === id);
  if (!s) {
    throw new EntityNotFound(`no open session ${id} (open: ${all.map((x) => x.id).slice(0, 5).join(", ") || "none"}; \`openprod sessions\` lists them)`, { session: id });
  }
  return s;
}

export function sessionInfo(s: SessionSummary): SessionInfo {
  return { id: s.id, script: s.scriptId, runId: s.runId, isolation: s.isolation, ops: s.ops.length, conflicts: s.conflicts.filter((c) => c.resolution === undefined).length };
}

/** A session's ops for review: each with the entity's name, no-op writes flagged, created entities with their final values. */
export function describeOps(store: WorkspaceStore, ops: readonly Operation[]): SessionChange[] {
  const created = new Map<string, { tables: Record<string, unknown>; values: Record<string, FieldValue> }>();
  for (const op of ops) {
    if (op.op === "CreateEntity" && op.id !== undefined) created.set(op.id, { tables: Object.fromEntries((op.tables ?? []).map((t) => [t, {}])), values: { ...(op.fields ?? {}) } });
    else if (op.op === "SetField") {
      const c = created.get(op.id);
      if (c) c.values[op.field] = op.value;
    }
  }
  const nameOf = (id: string | null): string | undefined => {
    if (id === null) return undefined;
    const c = created.get(id);
    if (c) return entityName({ id, tables: c.tables, fields: c.values }, store.schema);
    try {
      const e = store.getEntity(id);
      return entityName(e, store.schema);
    } catch (e) {
      if (e instanceof EntityNotFound) return undefined;
      throw e;
    }
  };
  return ops.map((op) => {
    const d = describeOp(store, op);
    const name = nameOf(d.entity);
    if (op.op === "CreateEntity" && d.entity !== null) return { ...d, name, values: created.get(d.entity)?.values ?? {} };
    if (op.op === "SetField") {
      const inCreated = created.has(op.id);
      return { ...d, name, noop: !inCreated && JSON.stringify(d.old) === JSON.stringify(d.new) };
    }
    return name === undefined ? d : { ...d, name };
  });
}

function describeOp(store: WorkspaceStore, op: Operation): SessionChange {
  const base = { op: op.op, entity: null, field: null, old: null, new: null };
  switch (op.op) {
    case "SetField": {
      let field = op.field;
      let old: FieldValue = null;
      if (store.entityExists(op.id)) {
        try {
          field = store.resolveField(op.field, store.facetsOf(op.id)).key;
          old = store.getField(op.id, op.field);
        } catch {
          // A field the entity does not carry yet: nothing to replace.
        }
      }
      return { ...base, entity: op.id, field, old, new: op.value, summary: `${op.id} ${field}: ${show(old)} → ${show(op.value)}` };
    }
    case "CreateEntity":
      return { ...base, entity: op.id ?? null, new: op.fields ?? null, summary: `create ${op.id ?? "entity"} in ${(op.tables ?? []).join(", ") || "no table"}${op.fields ? ` with ${Object.keys(op.fields).join(", ")}` : ""}` };
    case "DeleteEntity":
      return { ...base, entity: op.id, summary: `delete ${op.id}` };
    default: {
      const rest = { ...op } as Record<string, unknown>;
      delete rest.op;
      const entity = typeof rest.id === "string" ? rest.id : typeof rest.source === "string" ? rest.source : null;
      return { ...base, entity, summary: `${op.op} ${JSON.stringify(rest)}` };
    }
  }
}

function show(v: unknown): string {
  return v === null || v === undefined ? "(unset)" : JSON.stringify(v);
}
