/**
 * The operation vocabulary. Every change to a workspace, by a person, a client
 * app or a script, is a list of these grouped in a bundle (one Automerge change).
 * The daemon's store speaks this vocabulary itself (daemon/crdt/operations.ts
 * re-exports it), so a client's `apply` reaches the store as it was written.
 */
import type { FieldValue, Fields } from "./values.ts";

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

/** What an operation made: new ids, and for field writes the full key the name resolved to. */
export type OpResult = { id?: string; edgeId?: string; ids?: string[]; field?: string } | undefined;
