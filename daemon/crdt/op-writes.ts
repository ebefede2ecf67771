/**
 * What each operation writes, declared beside the interpreter that carries it out and read from
 * the same document view, so the write gate (capabilities) and the interpreter can never disagree
 * about an operation. The switch is exhaustive: a new operation type does not compile until it
 * says what it writes.
 *
 * The rule, in the user's words (docs/configuration.md repeats it):
 * - a field write (set_field, text/list edits, create_entity/attach_facet fields, a merge's
 *   resolution values, a resolved conflict's value) writes that field;
 * - attaching or detaching a facet writes the facet (every field of it);
 * - joining or leaving a table writes the table;
 * - creating, moving or deleting an edge writes its edge type;
 * - deleting, merging or splitting an entity writes every facet and table it carries and the edge
 *   types of the edges that go with it; an entity with neither facets nor tables is the whole
 *   workspace's business (`data.write:*`), as is creating a bare entity.
 */
import type { Heads } from "./automerge-backend.ts";
import type { Operation } from "./operations.ts";
import type { Schema } from "./schema.ts";
import type { WorkspaceDoc } from "./workspace-doc.ts";
import { FACET_PREFIX, K_DELETED, K_MERGED_INTO, TABLE_PREFIX } from "./layout.ts";

export type WriteTarget =
  | { kind: "field"; key: string; entity: string }
  | { kind: "facet"; facet: string; entity: string }
  | { kind: "table"; table: string; entity: string }
  | { kind: "edge"; type: string; entity: string }
  | { kind: "entity"; entity: string };

/** Checks an operation's writes before it is carried out; throws (PermissionDenied) to refuse it. */
export type WriteGate = (op: Operation, writes: readonly WriteTarget[]) => void;

/**
 * The parts of the interpreter's context (apply-ops.ts' OpContext, which satisfies it) that
 * working out an operation's writes reads; declared here so the two files do not import each other.
 */
export interface WritesContext {
  doc: WorkspaceDoc;
  schema: Schema;
  findConflict: (id: string) => { entity: string; key: string; container: "entity" | "edge"; mergedInto?: string } | null;
  /** Candidate edge ids touching an entity (from the index); each is re-checked against the document. */
  edgeCandidates: (entity: string) => Iterable<string>;
}

/** Live edge ids touching an entity, checked against the document state being written. */
export function liveEdgesOf(ctx: Pick<WritesContext, "doc" | "edgeCandidates">, entity: string, heads?: Heads): string[] {
  const out: string[] = [];
  for (const id of new Set(ctx.edgeCandidates(entity))) {
    const e = ctx.doc.edge(id, heads);
    if (e && !e.deleted && (e.source === entity || e.target === entity)) out.push(id);
  }
  return out;
}

/** Everything the operation would write if it were applied to `ctx.doc` now. */
export function writesOf(ctx: WritesContext, op: Operation): WriteTarget[] {
  const { schema, doc } = ctx;
  switch (op.op) {
    case "CreateEntity": {
      const entity = op.id ?? "(new)";
      const out: WriteTarget[] = [];
      const facets = new Set<string>();
      for (const t of op.tables ?? []) {
        out.push({ kind: "table", table: schema.table(t).name, entity });
        for (const f of schema.table(t).facets) facets.add(f);
      }
      for (const f of op.facets ?? []) {
        const key = schema.facet(f).key;
        facets.add(key);
        out.push({ kind: "facet", facet: key, entity });
      }
      for (const name of Object.keys(op.fields ?? {})) out.push({ kind: "field", key: schema.resolveField(name, facets).key, entity });
      if (out.length === 0) out.push({ kind: "entity", entity });
      return out;
    }
    case "SetField":
    case "ApplyCRDT": {
      const e = doc.live(op.id);
      return [{ kind: "field", key: schema.resolveField(op.field, doc.facets(e.obj, undefined, e.id), `entity ${e.id}`).key, entity: e.id }];
    }
    case "DeleteEntity":
      return wholeEntity(ctx, op.id);
    case "AddToTable":
    case "RemoveFromTable": {
      const e = doc.live(op.id);
      return [{ kind: "table", table: schema.table(op.table).name, entity: e.id }];
    }
    case "AttachFacet": {
      const e = doc.live(op.id);
      const facet = schema.facet(op.facet);
      const out: WriteTarget[] = [{ kind: "facet", facet: facet.key, entity: e.id }];
      for (const name of Object.keys(op.fields ?? {})) out.push({ kind: "field", key: schema.resolveField(name, [facet.key], `facet ${facet.key}`).key, entity: e.id });
      return out;
    }
    case "DetachFacet": {
      const e = doc.live(op.id);
      return [{ kind: "facet", facet: schema.facet(op.facet).key, entity: e.id }];
    }
    case "CreateEdge":
    case "CreateOrderedEdge":
      return [{ kind: "edge", type: schema.edgeType(op.type).name, entity: op.source }];
    case "MoveOrderedEdge":
    case "DeleteEdge": {
      const e = doc.liveEdge(op.edgeId);
      return [{ kind: "edge", type: e.type, entity: e.target }];
    }
    case "MergeEntities": {
      const out = [...wholeEntity(ctx, op.into), ...wholeEntity(ctx, op.from)];
      const into = doc.live(op.into);
      const facets = new Set([...doc.facets(into.obj), ...doc.facets(doc.live(op.from).obj)]);
      for (const name of Object.keys(op.resolution ?? {})) out.push({ kind: "field", key: schema.resolveField(name, facets, "the merged entity").key, entity: into.id });
      return out;
    }
    case "SplitEntity":
      return wholeEntity(ctx, op.source);
    case "ResolveConflict": {
      const c = ctx.findConflict(op.conflictId);
      // Not open: the interpreter refuses it with its own message; nothing would be written.
      if (!c) return [];
      if (c.container === "edge") {
        const e = doc.edge(c.entity);
        return e ? [{ kind: "edge", type: e.type, entity: e.target }] : [];
      }
      if (schema.fields.has(c.key)) return [{ kind: "field", key: c.key, entity: c.mergedInto ?? c.entity }];
      if (c.key.startsWith(TABLE_PREFIX)) return [{ kind: "table", table: c.key.slice(TABLE_PREFIX.length), entity: c.entity }];
      if (c.key.startsWith(FACET_PREFIX)) return [{ kind: "facet", facet: c.key.slice(FACET_PREFIX.length), entity: c.entity }];
      if (c.key === K_DELETED || c.key === K_MERGED_INTO) return wholeEntityRaw(ctx, c.entity);
      return [{ kind: "entity", entity: c.entity }];
    }
  }
}

/** Every facet and table a live entity carries, and the types of its edges. */
function wholeEntity(ctx: WritesContext, id: string): WriteTarget[] {
  const e = ctx.doc.live(id);
  return carried(ctx, e.id, e.obj);
}

/** The same for an entity that may be deleted or merged away (a structural conflict on it). */
function wholeEntityRaw(ctx: WritesContext, id: string): WriteTarget[] {
  const obj = ctx.doc.entityObj(id);
  return obj ? carried(ctx, id, obj) : [{ kind: "entity", entity: id }];
}

function carried(ctx: WritesContext, entity: string, obj: string): WriteTarget[] {
  const out: WriteTarget[] = [];
  const state = ctx.doc.state(entity, obj);
  for (const f of state.facets) out.push({ kind: "facet", facet: f, entity });
  for (const t of Object.keys(state.tables)) out.push({ kind: "table", table: t, entity });
  const types = new Set<string>();
  for (const edgeId of liveEdgesOf(ctx, entity)) {
    const edge = ctx.doc.edge(edgeId);
    if (edge) types.add(edge.type);
  }
  for (const type of types) out.push({ kind: "edge", type, entity });
  if (out.length === 0) out.push({ kind: "entity", entity });
  return out;
}
