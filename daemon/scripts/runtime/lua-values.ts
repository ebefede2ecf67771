/**
 * Lua values at the boundary: ids given as strings or entity tables, Lua data made plain for
 * the store, edges as Lua sees them, values as a log line shows them, and what a conflict is
 * about in the words of the gate.
 */
import { InvalidOperation } from "../../crdt/index.ts";
import type { ConflictRecord, EdgeState, WriteTarget } from "../../crdt/index.ts";
import { LuaFloat } from "../engine/index.ts";
import type { HostValue } from "../engine/index.ts";

export function entityId(v: HostValue | undefined): string {
  if (typeof v === "string" && v !== "") return v;
  if (v !== null && v !== undefined && typeof v === "object" && !Array.isArray(v) && typeof (v as Record<string, HostValue>).id === "string") {
    return (v as Record<string, HostValue>).id as string;
  }
  throw new InvalidOperation(`expected an id (or a table with an id), got ${v === null || v === undefined ? "nil" : typeof v}`, {});
}

/** What a conflict is about, as a write target (the same words the gate and the read grants use). */
export function conflictTarget(c: ConflictRecord, edgeType: (id: string) => string | null, isField: boolean): WriteTarget {
  if (c.container === "edge") {
    const type = edgeType(c.entity);
    return type === null ? { kind: "entity", entity: c.entity } : { kind: "edge", type, entity: c.entity };
  }
  if (isField) return { kind: "field", key: c.field, entity: c.entity };
  if (c.field.startsWith("@table:")) return { kind: "table", table: c.field.slice("@table:".length), entity: c.entity };
  if (c.field.startsWith("@facet:")) return { kind: "facet", facet: c.field.slice("@facet:".length), entity: c.entity };
  return { kind: "entity", entity: c.entity };
}

export function edgeLua(e: EdgeState): HostValue {
  return { id: e.id, type: e.type, source_id: e.source, target_id: e.target, position: e.position, properties: e.properties as HostValue };
}

/** Plain JS data (LuaFloat unwrapped) for the store and the query engine. */
export function plain(v: HostValue | undefined): unknown {
  if (v === undefined) return null;
  if (v instanceof LuaFloat) return v.value;
  if (Array.isArray(v)) return v.map(plain);
  if (v !== null && typeof v === "object") {
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, plain(x)]));
  }
  return v;
}

export function show(v: HostValue | undefined): string {
  if (v === null || v === undefined) return "nil";
  if (typeof v === "object") {
    try {
      return JSON.stringify(v);
    } catch {
      return "(table)";
    }
  }
  return String(v);
}
