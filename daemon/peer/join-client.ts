/**
 * The joining side of /openprod/join/1: dial the inviter at the address
 * `openprod invite` printed, prove the code, get the show. The peer id in the
 * address is checked by Noise, so the key is only ever given to (and the show
 * only taken from) the machine the technician named.
 */
import type { PrivateKey } from "@libp2p/interface";
import { multiaddr } from "@multiformats/multiaddr";
import { InvalidOperation, NetworkError, PermissionDenied } from "../crdt/vocabulary.ts";
import { FrameKind } from "./frame.ts";
import { normalizeInviteCode } from "./invite-book.ts";
import { JOIN_PROTOCOL_ID, readJoinMessage, sendJoinMessage } from "./join-protocol.ts";
import type { JoinOffer, JoinRefusal } from "./join-protocol.ts";
import { createJoinTransport } from "./join-transport.ts";

export interface JoinRequestOptions {
  /** The inviter's join address, with /p2p/<peer id>. */
  address: string;
  code: string;
  /** The joiner's identity (it becomes its peer key, so the inviter's log names the right peer). */
  privateKey: PrivateKey;
  name?: string;
}

export async function requestJoin(opts: JoinRequestOptions): Promise<JoinOffer> {
  let ma;
  try {
    ma = multiaddr(opts.address);
  } catch (err) {
    throw new InvalidOperation(`"${opts.address}" is not a multiaddr (expected what \`openprod invite\` printed, e.g. /ip4/10.0.0.2/tcp/40123/p2p/12D3...): ${(err as Error).message}`, { address: opts.address });
  }
  if (ma.getComponents().find((c) => c.name === "p2p") === undefined) {
    throw new InvalidOperation(`${opts.address} has no /p2p/<peer id>: use the whole address \`openprod invite\` printed, so that the show is taken from that peer and no other`, { address: opts.address });
  }
  const node = await createJoinTransport({ privateKey: opts.privateKey, listen: [] });
  try {
    let stream;
    try {
      stream = await node.dialProtocol(ma, JOIN_PROTOCOL_ID);
    } catch (err) {
      throw new NetworkError(`cannot reach ${opts.address}: ${(err as Error).message} (is its daemon running, and is the invite still open? run \`openprod invite\` there again)`, { address: opts.address });
    }
    await sendJoinMessage(stream, FrameKind.Hello, { code: normalizeInviteCode(opts.code), ...(opts.name ? { name: opts.name } : {}) });
    let answer;
    try {
      answer = await readJoinMessage(stream);
    } catch (err) {
      throw new NetworkError(`${opts.address} did not answer the join: ${(err as Error).message}`, { address: opts.address });
    }
    // Our side closes first: the inviter's close then needs nothing more from us.
    await stream.close().catch(() => stream.abort(new Error("join done")));
    if (answer.kind === FrameKind.Error) {
      const r = answer.message as Partial<JoinRefusal>;
      const message = `${opts.address} refused the join: ${typeof r.message === "string" ? r.message : "no reason given"}`;
      throw r.code === "PermissionDenied" ? new PermissionDenied(message, { address: opts.address }) : new InvalidOperation(message, { address: opts.address });
    }
    return offerOf(answer.message, opts.address);
  } finally {
    await stopWithin(node, STOP_GRACE_MS);
  }
}

const STOP_GRACE_MS = 3000;

/**
 * libp2p's stop can wait on a connection close that never comes once the inviter hung up; with
 * nothing else pending, Node would then exit mid-command. The answer is in hand: give stop a
 * moment, then go on.
 */
async function stopWithin(node: { stop(): void | Promise<void> }, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([Promise.resolve(node.stop()).catch(() => undefined), new Promise<void>((resolve) => (timer = setTimeout(resolve, ms)))]);
  clearTimeout(timer);
}

/** The offer, checked field by field: the joiner writes files from it. */
function offerOf(m: unknown, address: string): JoinOffer {
  const bad = (what: string): never => {
    throw new InvalidOperation(`${address} sent a join answer without ${what}`, { address });
  };
  if (typeof m !== "object" || m === null) return bad("a body");
  const o = m as Record<string, unknown>;
  const ws = o.workspace as Record<string, unknown> | undefined;
  if (typeof ws !== "object" || ws === null || typeof ws.id !== "string" || typeof ws.name !== "string") return bad("workspace id and name");
  if (typeof o.workspaceKey !== "string") return bad("a workspace key");
  if (!Array.isArray(o.addresses) || !o.addresses.every((a) => typeof a === "string")) return bad("sync addresses");
  if (typeof o.peerId !== "string" || typeof o.peerName !== "string") return bad("its peer id and name");
  if (!Array.isArray(o.files)) return bad("files");
  const files = o.files.map((f: unknown) => {
    const file = f as Record<string, unknown>;
    if (typeof file !== "object" || file === null || typeof file.path !== "string" || typeof file.data !== "string") return bad("well-formed files");
    return { path: file.path, data: file.data };
  });
  return {
    workspace: { id: ws.id, name: ws.name },
    workspaceKey: o.workspaceKey,
    addresses: o.addresses as string[],
    peerId: o.peerId,
    peerName: o.peerName,
    allowList: o.allowList === true,
    files,
  };
}
