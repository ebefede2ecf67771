/**
 * The change feed: what every applied bundle (local, merged from a peer, or an
 * overlay committed at its snapshot) changed, at field level. Indexes,
 * conflicts, history, triggers and the socket all read this one stream.
 */
import type { ConflictRecord } from "./conflicts.ts";
import type { BundleInfo, FieldValue } from "./operations.ts";

export type ChangeKind = "field" | "table" | "facet" | "entity" | "edge";

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

export interface ChangeEvent {
  origin: "local" | "remote";
  /** The bundles applied, in application order. */
  bundles: BundleInfo[];
  changes: FieldChange[];
  heads: string[];
  /** Conflicts these bundles opened (as recorded now) and the ids of those they closed, each sorted by id. */
  conflicts: ConflictDelta;
}

export interface ConflictDelta {
  opened: ConflictRecord[];
  closed: string[];
}

export type ChangeListener = (event: ChangeEvent) => void;

export class ChangeFeed {
  private readonly listeners = new Set<ChangeListener>();

  subscribe(listener: ChangeListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  publish(event: ChangeEvent): void {
    for (const l of this.listeners) {
      try {
        l(event);
      } catch (e) {
        // A subscriber's bug must not stop the others from seeing the change.
        queueMicrotask(() => {
          throw e;
        });
      }
    }
  }

  get size(): number {
    return this.listeners.size;
  }
}
