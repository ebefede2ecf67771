/**
 * The one refusal of a write, in one set of words wherever it is refused: the write gate
 * (write-gate.ts, inside the interpreter) and a script's batched set_field in its Lua worker
 * (runtime/session-worker.ts) both throw this. It names the script, the operation, the entity,
 * what was written and the capability that would allow it. Light: imported inside Lua workers.
 */
import { PermissionDenied } from "../../crdt/vocabulary.ts";
import type { Schema } from "../../crdt/vocabulary.ts";
import type { OperationName } from "../../crdt/vocabulary.ts";
import type { WriteTarget } from "../../crdt/vocabulary.ts";

/** `needs capability "<exact>"`, with ` (or "<broader>")` when a broader one would also do. */
export function needsCapability(exact: string, broader?: string): string {
  return `needs capability "${exact}"${broader !== undefined && broader !== exact ? ` (or "${broader}")` : ""}`;
}

export function writeRefusal(op: OperationName, target: WriteTarget, schema: Schema, script?: string): PermissionDenied {
  const who = script === undefined ? "" : `script "${script}": `;
  const what = writeWhat(target);
  const module = targetModule(target, schema);
  const exact = target.kind === "field" ? target.key : target.kind === "entity" ? "*" : `${module}.${targetName(target, schema)}`;
  const broader = target.kind === "entity" ? undefined : `data.write:${module}.*`;
  return new PermissionDenied(`${who}${op} on entity ${target.entity} writes ${what}: ${needsCapability(`data.write:${exact}`, broader)}`, {
    script,
    operation: op,
    entity: target.entity,
    capability: `data.write:${exact}`,
    write: what,
  });
}

function writeWhat(t: WriteTarget): string {
  switch (t.kind) {
    case "field":
      return `field ${t.key}`;
    case "facet":
      return `facet ${t.facet}`;
    case "table":
      return `table ${t.table}`;
    case "edge":
      return `edge type ${t.type}`;
    case "entity":
      return "an entity with no facets or tables";
  }
}

function targetModule(t: WriteTarget, schema: Schema): string {
  switch (t.kind) {
    case "field":
      return t.key.split(".")[0];
    case "facet":
      return schema.facets.get(t.facet)?.module ?? t.facet.split(".")[0];
    case "table":
      return schema.tables.get(t.table)?.module ?? "*";
    case "edge":
      return schema.edgeTypes.get(t.type)?.module ?? "*";
    case "entity":
      return "*";
  }
}

function targetName(t: WriteTarget, schema: Schema): string {
  switch (t.kind) {
    case "facet":
      return schema.facets.get(t.facet)?.name ?? t.facet;
    case "table":
      return t.table;
    case "edge":
      return t.type;
    default:
      return "*";
  }
}
