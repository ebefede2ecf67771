/** The peers this daemon syncs with, as `peers.list` and the peer events report them. */
export interface PeerInfo {
  peerId: string;
  /** The name the peer gave in its hello (`[peer] name`); null from a peer that gave none. */
  name: string | null;
  /** Multiaddr of the remote end of the connection the sync runs on. */
  remoteAddr: string;
  /** "outbound" when this node dialled. */
  direction: "inbound" | "outbound";
  /** Epoch ms when the sync conversation began (hello accepted). */
  since: number;
  /** Automerge sync traffic on this conversation, payload bytes and messages. */
  syncBytesIn: number;
  syncBytesOut: number;
  syncMessagesIn: number;
  syncMessagesOut: number;
  /** Epoch ms of the last sync message either way; null before the first. */
  lastSyncAt: number | null;
  /** How the peer's modules differ from this one's, in words; null when they match (or it did not say). */
  modulesDiffer: string | null;
  /** Sync lag: how long a change of ours has been waiting to be sent to this peer, in ms (0: it has all we have). */
  behindMs: number;
}
