/**
 * The operation vocabulary. Every change to a workspace, by a person, a client
 * app or a script, is a list of these grouped in a bundle (one Automerge change).
 * The vocabulary is the wire contract's (protocol/operations.ts): the store
 * applies what a client sends as it was written.
 */
import type { Actor } from "../../protocol/index.ts";

export type { FieldValue, Fields } from "../../protocol/index.ts";
export type {
  CreateEntity,
  DeleteEntity,
  SetField,
  CrdtEdit,
  ApplyCRDT,
  AddToTable,
  RemoveFromTable,
  AttachFacet,
  DetachFacet,
  CreateEdge,
  DeleteEdge,
  CreateOrderedEdge,
  MoveOrderedEdge,
  MergeEntities,
  SplitEntity,
  ResolveConflict,
  Operation,
  OperationName,
} from "../../protocol/index.ts";
export type { Actor, BundleMeta, BundleInfo } from "../../protocol/index.ts";

/** What the caller says about a bundle; the store adds HLC time and peer id. */
export interface BundleInput {
  actor: Actor;
  /** Free-form provenance: script id, content hash, run id, causal chain, external inputs... */
  origin?: Record<string, unknown>;
}
