import "./polyfill.ts";
import { noise } from "@chainsafe/libp2p-noise";
import { yamux } from "@chainsafe/libp2p-yamux";
import type { Libp2p, PrivateKey } from "@libp2p/interface";
import { tcp } from "@libp2p/tcp";
import { createLibp2p } from "libp2p";

/**
 * The libp2p stack of /openprod/join/1: TCP + Noise + Yamux like the sync
 * transport, but without the workspace key's private network (the joiner
 * does not have the key yet) and without discovery. It carries nothing but
 * the join protocol.
 */
export function createJoinTransport(opts: { privateKey: PrivateKey; listen: string[] }): Promise<Libp2p> {
  return createLibp2p({
    privateKey: opts.privateKey,
    addresses: { listen: opts.listen },
    transports: [tcp()],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
    connectionGater: { denyDialMultiaddr: () => false },
    connectionManager: { dialTimeout: 10_000 },
  });
}
