/**
 * Another peer of the show, for one test: a second store (its own Automerge actor and peer id)
 * that syncs with the scratch store by the real sync protocol. `sim.peer.edit` makes a change
 * on it from what it knew at its last sync and merges it in, so a change the test (or a
 * script) made meanwhile is concurrent with it, as with a real peer: sessions meet commit
 * conflicts, concurrent writes become the store's conflicts.
 */
import type { Operation, WorkspaceStore } from "../../crdt/index.ts";
import type { SyncSession } from "../../crdt/index.ts";

/** Sync rounds before giving up: two stores of one test converge in a handful. */
const MAX_ROUNDS = 100;

export const SIM_PEER_ID = "peer-sim";

export class SimPeer {
  private constructor(
    readonly store: WorkspaceStore,
    private readonly mine: SyncSession,
    private readonly theirs: SyncSession,
  ) {}

  /** A peer that knows everything the scratch store holds now. */
  static async join(scratch: WorkspaceStore, open: () => Promise<WorkspaceStore>): Promise<SimPeer> {
    const store = await open();
    const peer = new SimPeer(store, await scratch.openSyncSession(SIM_PEER_ID), await store.openSyncSession("peer-test"));
    await peer.sync();
    return peer;
  }

  /** Both ways until neither has anything to send. */
  sync(): Promise<void> {
    return syncSessions(this.mine, this.theirs, "the simulated peer");
  }

  /** Applies `ops` as a person at the other peer, then merges. */
  async edit(ops: Operation[], who: string): Promise<void> {
    await this.store.apply(ops, { actor: { kind: "user", name: who }, origin: { sim: "peer" } });
    await this.sync();
  }

  async close(): Promise<void> {
    await this.mine.close();
    await this.theirs.close();
    await this.store.close();
  }
}

/** Runs the sync protocol between two stores' sessions until neither has anything to send. */
export async function syncSessions(a: SyncSession, b: SyncSession, what: string): Promise<void> {
  for (let i = 0; i < MAX_ROUNDS; i++) {
    const toB = a.generateMessage();
    if (toB) await b.receiveMessage(toB);
    const toA = b.generateMessage();
    if (toA) await a.receiveMessage(toA);
    if (!toA && !toB) return;
  }
  throw new Error(`openprod test: the scratch store and ${what} did not converge in ${MAX_ROUNDS} sync rounds`);
}
