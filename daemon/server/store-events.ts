/**
 * Turns the store's change feed and the peer node's events into socket
 * events: `bundle`, `conflict.opened` / `conflict.closed`, `peer.up` /
 * `peer.down`. Conflict events are those the store's change event carries.
 */
import type { WorkspaceStore } from "../crdt/index.ts";
import type { PeerNode } from "../peer/index.ts";
import type { EventHub } from "./event-hub.ts";

export function bridgeEvents(store: WorkspaceStore, peer: PeerNode | null, events: EventHub): () => void {
  const offs: (() => void)[] = [];
  offs.push(
    store.onChange((change) => {
      if (events.wants("bundle")) {
        events.publish({ type: "bundle", origin: change.origin, bundles: change.bundles, changes: change.changes, heads: change.heads });
      }
      for (const conflict of change.conflicts.opened) events.publish({ type: "conflict.opened", conflict });
      for (const id of change.conflicts.closed) events.publish({ type: "conflict.closed", id });
    }),
  );
  if (peer) {
    offs.push(peer.on("peer:up", (p) => events.publish({ type: "peer.up", peer: p })));
    offs.push(peer.on("peer:down", (p) => events.publish({ type: "peer.down", peerId: p.peerId, reason: p.reason })));
  }
  return () => {
    for (const off of offs) off();
  };
}
