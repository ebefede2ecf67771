import * as Automerge from "@automerge/automerge";
import { InvalidOperation } from "../../daemon/crdt/errors.ts";
import type { SyncDocument, SyncSession } from "../../daemon/peer/index.ts";

type Fields = Record<string, string | number>;

/**
 * A real Automerge document behind the peer seam, held in memory. Sync states
 * are "persisted" in a map that outlives sessions and nodes, the way the
 * store keeps them in LevelDB, so reconnect behaviour is the real one.
 */
export class MemorySyncDocument implements SyncDocument {
  private doc: Automerge.Doc<Fields>;
  private readonly listeners = new Set<() => void>();
  /** Encoded per-peer sync states, as the store would persist them. */
  readonly savedSyncStates = new Map<string, Uint8Array>();
  /** Sessions currently open, by peer id; the store must never see two for one peer. */
  readonly openSessions = new Map<string, number>();
  maxConcurrentSessionsPerPeer = 0;

  constructor(readonly workspaceId: string) {
    this.doc = Automerge.init<Fields>();
  }

  put(key: string, value: string | number): void {
    this.doc = Automerge.change(this.doc, (d) => {
      d[key] = value;
    });
    this.notify();
  }

  /** Many fields in one change (one bundle). */
  putMany(fields: Fields): void {
    this.doc = Automerge.change(this.doc, (d) => {
      for (const [k, v] of Object.entries(fields)) d[k] = v;
    });
    this.notify();
  }

  get(key: string): string | number | undefined {
    return this.doc[key];
  }

  /** Plain copy with keys sorted, so two converged peers compare equal whatever order keys arrived in. */
  toJSON(): Fields {
    return Object.fromEntries(Object.keys(this.doc).sort().map((k) => [k, this.doc[k]]));
  }

  heads(): string[] {
    return Automerge.getHeads(this.doc);
  }

  changeCount(): number {
    return Automerge.getAllChanges(this.doc).length;
  }

  onChange(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  async openSyncSession(peerId: string): Promise<SyncSession> {
    const open = (this.openSessions.get(peerId) ?? 0) + 1;
    this.openSessions.set(peerId, open);
    this.maxConcurrentSessionsPerPeer = Math.max(this.maxConcurrentSessionsPerPeer, open);
    const saved = this.savedSyncStates.get(peerId);
    let state = saved === undefined ? Automerge.initSyncState() : Automerge.decodeSyncState(saved);
    let closed = false;
    const persist = (): void => {
      this.savedSyncStates.set(peerId, Automerge.encodeSyncState(state));
    };
    return {
      generateMessage: () => {
        const [next, msg] = Automerge.generateSyncMessage(this.doc, state);
        state = next;
        return msg;
      },
      receiveMessage: async (msg) => {
        const before = Automerge.getHeads(this.doc);
        let next: [Automerge.Doc<Fields>, Automerge.SyncState, null];
        try {
          next = Automerge.receiveSyncMessage(this.doc, state, msg);
        } catch (err) {
          throw new InvalidOperation(`sync message from peer ${peerId} (${msg.byteLength} bytes) cannot be decoded: ${(err as Error).message}`, {
            peerId,
          });
        }
        [this.doc, state] = next;
        persist();
        // Microtask hop stands in for the store's durable write before we resolve.
        await Promise.resolve();
        const after = Automerge.getHeads(this.doc);
        if (before.join() !== after.join()) this.notify();
      },
      close: async () => {
        if (closed) return;
        closed = true;
        persist();
        this.openSessions.set(peerId, (this.openSessions.get(peerId) ?? 1) - 1);
      },
    };
  }

  private notify(): void {
    for (const l of this.listeners) l();
  }
}
