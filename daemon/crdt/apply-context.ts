/** What one bundle's operations share while they run (apply-ops.ts): the context, and how a change is noted and a field written. */
import type { FieldChange } from "./change-feed.ts";
import type { IdGenerator } from "./ids.ts";
import type { FieldDef, Schema } from "./schema.ts";
import type { FieldValue } from "./operations.ts";
import type { WorkspaceDoc } from "./workspace-doc.ts";
import { HIDDEN_PREFIX, encodeScalar, fieldInput } from "./layout.ts";
import type { WriteGate } from "./op-writes.ts";

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

export function note(ctx: OpContext, kind: FieldChange["kind"], entity: string, field: string, oldValue: FieldValue | undefined, newValue: FieldValue | undefined): void {
  ctx.changes.push({ kind, entity, field, oldValue, newValue });
  ctx.touched.add(entity);
  if (kind === "entity") ctx.doc.invalidateLiveness();
  if (kind !== "field") ctx.doc.invalidate(entity);
}

export function writeFieldNoted(ctx: OpContext, entity: string, obj: string, def: FieldDef, raw: FieldValue): void {
  const value = fieldInput(def, raw);
  const old = ctx.doc.readField(obj, def);
  ctx.doc.writeField(entity, obj, def, value);
  note(ctx, "field", entity, def.key, old, value);
}

export function moveToHidden(ctx: OpContext, obj: string, def: FieldDef, value: FieldValue): void {
  ctx.doc.be.delete(obj, def.key);
  if (def.type === "text" || def.type === "list" || def.type === "json") {
    ctx.doc.be.put(obj, HIDDEN_PREFIX + def.key, JSON.stringify(value));
  } else if (value !== null) {
    const enc = encodeScalar(def, value, "");
    if (enc) ctx.doc.be.put(obj, HIDDEN_PREFIX + def.key, enc.value, enc.datatype);
  }
}
