import "./polyfill.ts";
import { noise } from "@chainsafe/libp2p-noise";
import { yamux } from "@chainsafe/libp2p-yamux";
import type { Libp2p, PeerId, PeerInfo, PrivateKey } from "@libp2p/interface";
import { mdns } from "@libp2p/mdns";
import { preSharedKey } from "@libp2p/pnet";
import { tcp } from "@libp2p/tcp";
import { createLibp2p } from "libp2p";
import type { Libp2pOptions } from "libp2p";
import type { PeerLog } from "./peer-events.ts";
import { parseWorkspaceKey } from "./workspace-key.ts";

export interface TransportOptions {
  privateKey: PrivateKey;
  listen: string[];
  /** Swarm-key formatted PSK; connections without the same key never get past the first bytes. */
  workspaceKey: Uint8Array;
  /** When given, only these peer ids may connect (either direction). */
  allowPeers?: string[];
  mdns?: boolean;
  /** Called for each peer that mDNS (and only mDNS) finds on the local network. */
  onMdnsPeer?: (peer: PeerInfo) => void;
  log: PeerLog;
  /** A dial that has not completed its handshake in this time fails. */
  dialTimeoutMs?: number;
}

/**
 * The libp2p stack every Openprod peer speaks: TCP (Nagle off) + pnet PSK +
 * Noise + Yamux. The sync protocol and the echo benchmark both run on it, so
 * their numbers compare like for like.
 */
export async function createTransport(opts: TransportOptions): Promise<Libp2p> {
  const psk = parseWorkspaceKey(opts.workspaceKey);
  const allow = opts.allowPeers === undefined ? null : new Set(opts.allowPeers);
  const denied = (peer: PeerId, direction: string): boolean => {
    if (allow === null || allow.has(peer.toString())) return false;
    opts.log("warn", `refused ${direction} connection with peer ${peer.toString()}: it is not on this peer's allow-list`, {
      peerId: peer.toString(),
      direction,
    });
    return true;
  };
  // libp2p's own "peer:discovery" also fires for any peer newly written to its address book (an inbound
  // connection, a static peer), so what mDNS found is told apart at the source.
  const discovery: NonNullable<Libp2pOptions["peerDiscovery"]> =
    opts.mdns === true
      ? [
          (components) => {
            const service = mdns()(components);
            service.addEventListener("peer", (evt) => opts.onMdnsPeer?.(evt.detail));
            return service;
          },
        ]
      : [];
  return createLibp2p({
    privateKey: opts.privateKey,
    addresses: { listen: opts.listen },
    transports: [
      tcp({
        // Nagle would hold each small sync message back by tens of ms.
        dialOpts: { noDelay: true, keepAlive: true },
        listenOpts: { noDelay: true, keepAlive: true },
      }),
    ],
    connectionProtector: preSharedKey({ psk }),
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
    peerDiscovery: discovery,
    connectionGater: {
      // Loopback and LAN addresses are the whole point of a venue network.
      denyDialMultiaddr: () => false,
      denyInboundEncryptedConnection: (peer) => denied(peer, "inbound"),
      denyOutboundEncryptedConnection: (peer) => denied(peer, "outbound"),
    },
    connectionManager: {
      dialTimeout: opts.dialTimeoutMs ?? 10_000,
      // A few show machines reconnecting at once must not trip libp2p's flood guard.
      inboundConnectionThreshold: 100,
    },
  });
}
