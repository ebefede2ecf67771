/**
 * The change feed: what every applied bundle (local, merged from a peer, or an
 * overlay committed at its snapshot) changed, at field level. Indexes,
 * conflicts, history, triggers and the socket all read this one stream.
 */
import type { ConflictRecord } from "./conflicts.ts";
import type { BundleInfo } from "./operations.ts";
import type { FieldChange } from "../../protocol/index.ts";
// The wire's own words (protocol/): the daemon keeps no second copy of them.
export type { FieldChange };

export type ChangeKind = "field" | "table" | "facet" | "entity" | "edge";

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
