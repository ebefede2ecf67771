/**
 * The operation vocabulary. Every change to a workspace, by a person, a client
 * app or a script, is a list of these grouped in a bundle (one Automerge change).
 */

/** A value as written by callers: scalars, lists (for `list` fields), objects/arrays (for `json`). */
export type FieldValue = null | boolean | number | string | FieldValue[] | { [key: string]: FieldValue };

export type Fields = Record<string, FieldValue>;

export interface CreateEntity {
  op: "CreateEntity";
  /** Chosen by the store when absent. */
  id?: string;
  /** Tables to join (their facets are attached). */
  tables?: string[];
  /** Facets to attach without a table. */
  facets?: string[];
  fields?: Fields;
}
export interface DeleteEntity {
  op: "DeleteEntity";
  id: string;
}
export interface SetField {
  op: "SetField";
  id: string;
  field: string;
  /** null clears the field. */
  value: FieldValue;
}
export type CrdtEdit =
  | { kind: "text.insert"; index: number; text: string }
  | { kind: "text.delete"; start: number; end: number }
  | { kind: "text.replace"; start: number; end: number; text: string }
  | { kind: "list.insert"; index: number; value: FieldValue }
  | { kind: "list.append"; value: FieldValue }
  | { kind: "list.remove"; value: FieldValue }
  | { kind: "list.remove_at"; index: number };
export interface ApplyCRDT {
  op: "ApplyCRDT";
  id: string;
  field: string;
  edit: CrdtEdit;
}
export interface AddToTable {
  op: "AddToTable";
  id: string;
  table: string;
  /** Membership fields, e.g. { department = "lighting" }. */
  membership?: Fields;
}
export interface RemoveFromTable {
  op: "RemoveFromTable";
  id: string;
  table: string;
}
export interface AttachFacet {
  op: "AttachFacet";
  id: string;
  facet: string;
  fields?: Fields;
}
export interface DetachFacet {
  op: "DetachFacet";
  id: string;
  facet: string;
  /** Keep the facet's field values so re-attaching restores them. */
  preserve?: boolean;
}
export interface CreateEdge {
  op: "CreateEdge";
  edgeId?: string;
  type: string;
  source: string;
  target: string;
  properties?: Fields;
}
export interface DeleteEdge {
  op: "DeleteEdge";
  edgeId: string;
}
export interface CreateOrderedEdge {
  op: "CreateOrderedEdge";
  edgeId?: string;
  type: string;
  source: string;
  target: string;
  /** Insert after / before this sibling edge; neither = at the end. */
  after?: string;
  before?: string;
  properties?: Fields;
}
export interface MoveOrderedEdge {
  op: "MoveOrderedEdge";
  edgeId: string;
  after?: string;
  before?: string;
}
export interface MergeEntities {
  op: "MergeEntities";
  /** Survivor. */
  into: string;
  /** Folded into `into`, then a tombstone that redirects to it. */
  from: string;
  /** Values for fields both entities hold with different values; unresolved clashes become conflicts. */
  resolution?: Fields;
}
export interface SplitEntity {
  op: "SplitEntity";
  source: string;
  /** New entity id → facets it takes from the source (ids may be omitted with `newIds` order). */
  distribution: Record<string, string[]>;
}
export interface ResolveConflict {
  op: "ResolveConflict";
  conflictId: string;
  value: FieldValue;
}

export type Operation =
  | CreateEntity
  | DeleteEntity
  | SetField
  | ApplyCRDT
  | AddToTable
  | RemoveFromTable
  | AttachFacet
  | DetachFacet
  | CreateEdge
  | DeleteEdge
  | CreateOrderedEdge
  | MoveOrderedEdge
  | MergeEntities
  | SplitEntity
  | ResolveConflict;

export type OperationName = Operation["op"];

/** Who made a bundle. */
export type Actor =
  | { kind: "user"; name: string }
  | { kind: "app"; name: string }
  | { kind: "script"; name: string; runId: string }
  | { kind: "peer"; name: string }
  | { kind: "system"; name: string };

/** What the caller says about a bundle; the store adds HLC time and peer id. */
export interface BundleInput {
  actor: Actor;
  /** Free-form provenance: script id, content hash, run id, causal chain, external inputs... */
  origin?: Record<string, unknown>;
}

/** The metadata stored in the Automerge change message (JSON). */
export interface BundleMeta {
  v: 1;
  hlc: string;
  peer: string;
  actor: Actor;
  origin?: Record<string, unknown>;
  /** Entities touched (capped; `entitiesTruncated` when more). */
  entities: string[];
  entitiesTruncated?: boolean;
  /** Number of operations in the bundle. */
  ops: number;
}

export interface BundleInfo {
  hash: string;
  meta: BundleMeta;
}
