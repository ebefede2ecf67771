/** Bundles (one atomic group of operations each) and what they changed, as history and events show them. */
import type { FieldValue } from "./values.ts";
import type { OpResult } from "./operations.ts";

/** Who made a bundle. */
export type Actor =
  | { kind: "user"; name: string }
  | { kind: "app"; name: string }
  | { kind: "script"; name: string; runId: string }
  | { kind: "peer"; name: string }
  | { kind: "system"; name: string };

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

export type ChangeKind = "field" | "table" | "facet" | "entity" | "edge";

/** One change a bundle made, at field level. */
export interface FieldChange {
  kind: ChangeKind;
  /** Entity id (for edges: the edge id). */
  entity: string;
  /**
   * kind "field": the field key (`module.facet.field`); "table": the table name;
   * "facet": the facet key; "entity": "created" | "deleted" | "merged";
   * "edge": "created" | "deleted" | "moved" | "properties".
   */
  field: string;
  oldValue: FieldValue | undefined;
  newValue: FieldValue | undefined;
  /** Hash of the bundle that produced the new value, when known. */
  bundle?: string;
}

/** What one past bundle changed (`history` with `changes`). */
export interface BundleChanges {
  changes: FieldChange[];
  /** Changes beyond `limit`, counted but not listed. */
  more: number;
}

/** What a write returns: the bundle made (hash null when nothing changed). */
export interface BundleResult {
  hash: string | null;
  hlc: string;
  results: OpResult[];
  changes: FieldChange[];
}
