/** The workspace store's public vocabulary: how it is opened and what its calls return. */
import type { Heads } from "./automerge-backend.ts";
import type { OpResult } from "./apply-ops.ts";
import type { FieldChange } from "./change-feed.ts";
import type { IdGenerator } from "./ids.ts";
import type { BundleInfo, FieldValue } from "./operations.ts";
import type { OpenPersistence } from "./persistence/index.ts";
import type { Schema } from "./schema.ts";
import type { EntityState } from "./workspace-doc.ts";

export interface StoreOptions {
  /**
   * Where the workspace is kept: `levelPersistence({ dir, fsync, ... })` on disk, `memoryPersistence()`
   * in memory. Opened by `open`, owned by the store from then on.
   */
  persistence: OpenPersistence;
  schema: Schema;
  workspaceId: string;
  /** This peer's id (libp2p peer id or a configured name); stamped on every bundle. */
  peerId: string;
  /**
   * Least bundles between compactions (full save + dropping incremental entries). A compaction
   * also waits until the changes stored since the last one are as big as its save, so that the
   * saves, whose cost grows with the history, cost each bundle the same however long the history.
   */
  compactEvery?: number;
  now?: () => number;
  random?: () => number;
  /**
   * Makes entity and edge ids (default: ULIDs from `now` and `random`). `openprod test` hands
   * in the generator it replayed to where a fixture left it, so ids after a cached fixture
   * start are the ones a fresh apply would have made.
   */
  newId?: IdGenerator;
  /**
   * The store continues one of this peer closed cleanly (its saved last HLC is where that
   * store's clock stopped): the clock resumes exactly there rather than a step past it, so its
   * ticks are the ones the closed store would have made. `openprod test` opens copies of a
   * fixture's template store so; a daemon never sets it.
   */
  continuesClock?: boolean;
}

export interface BundleResult {
  /** Null when the bundle changed nothing (e.g. a field set to the value it already had). */
  hash: string | null;
  hlc: string;
  results: OpResult[];
  changes: FieldChange[];
}

export interface EntityView extends EntityState {
  fields: Record<string, FieldValue>;
}

export interface ReadOptions {
  /** Read as of these heads (a point in history); default: now. */
  heads?: Heads;
}

export type HistoryEntry = BundleInfo;

export interface SyncSession {
  generateMessage(): Uint8Array | null;
  receiveMessage(msg: Uint8Array): Promise<void>;
  close(): Promise<void>;
}
