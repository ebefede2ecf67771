import type { SyncDocument, SyncSession } from "./sync-document.ts";

/**
 * The part of the workspace store (daemon/crdt WorkspaceStore) that peer sync
 * needs. Kept structural so the peer layer depends on this contract, not on
 * the store's class.
 */
export interface SyncableStore {
  readonly workspaceId: string;
  /** Loads the peer's persisted sync state; receiveMessage resolves only once merged changes and that state are durable. */
  openSyncSession(peerId: string): Promise<SyncSession>;
  /** Fires after every durable local bundle and every durable merge. */
  onSyncableChange(listener: () => void): () => void;
}

/** The workspace store seen through the peer seam: what every daemon syncs. */
export function storeSyncDocument(store: SyncableStore): SyncDocument {
  return {
    get workspaceId() {
      return store.workspaceId;
    },
    openSyncSession: (peerId) => store.openSyncSession(peerId),
    onChange: (listener) => store.onSyncableChange(listener),
  };
}
