/**
 * Turns the store's change feed and the peer node's events into socket
 * events: `bundle`, `conflict.opened` / `conflict.closed`, `peer.up` /
 * `peer.down`. Conflict events come from comparing the open conflicts
 * before and after each bundle (skipped while none are open).
 */
import type { WorkspaceStore } from "../crdt/index.ts";
import type { PeerNode } from "../peer/index.ts";
import type { EventHub } from "./event-hub.ts";

export function bridgeEvents(store: WorkspaceStore, peer: PeerNode | null, events: EventHub): () => void {
  let open = new Set(store.conflicts().map((c) => c.id));
  const offs: (() => void)[] = [];
  offs.push(
    store.onChange((change) => {
      if (events.wants("bundle")) {
        events.publish({ type: "bundle", origin: change.origin, bundles: change.bundles, changes: change.changes, heads: change.heads });
      }
      if (open.size === 0 && store.stats().conflicts === 0) return;
      const now = store.conflicts();
      const next = new Set<string>();
      for (const c of now) {
        next.add(c.id);
        if (!open.has(c.id)) events.publish({ type: "conflict.opened", conflict: c });
      }
      for (const id of open) if (!next.has(id)) events.publish({ type: "conflict.closed", id });
      open = next;
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
