/**
 * The seam between the peer transport and the workspace store. The store
 * (daemon/crdt) implements it; the peer layer only moves bytes and never
 * looks inside the document.
 */
export interface SyncDocument {
  readonly workspaceId: string;
  /** Start or resume syncing with a peer: loads that peer's persisted sync state (so a reconnect sends only what is missing). */
  openSyncSession(peerId: string): Promise<SyncSession>;
  /** Called after every local bundle and every merge, so new data is pushed promptly (no polling). Returns an unsubscribe. */
  onChange(listener: () => void): () => void;
}

export interface SyncSession {
  /** The next sync message for this peer, or null when there is nothing to say now. */
  generateMessage(): Uint8Array | null;
  /**
   * Apply one message from the peer. Resolves only after merged changes are durable and the sync state is persisted;
   * throws InvalidOperation for a message that cannot be decoded (the document is untouched).
   */
  receiveMessage(msg: Uint8Array): Promise<void>;
  close(): Promise<void>;
}
