/**
 * The inviting side of /openprod/join/1: a listener that exists only while
 * an invite is open. It takes the joiner's code from the invite book and, if
 * the code is good, sends the show as `offer()` builds it at that moment.
 */
import type { Libp2p, PrivateKey, Stream } from "@libp2p/interface";
import { multiaddr } from "@multiformats/multiaddr";
import { FrameKind } from "./frame.ts";
import type { InviteBook, InviteRefusal } from "./invite-book.ts";
import { MAX_WRONG_CODES } from "./invite-book.ts";
import { JOIN_PROTOCOL_ID, readJoinMessage, sendJoinMessage } from "./join-protocol.ts";
import type { JoinOffer, JoinRefusal, JoinRequest } from "./join-protocol.ts";
import { createJoinTransport } from "./join-transport.ts";
import type { PeerLog } from "./peer-events.ts";

export interface JoinListenerOptions {
  /** The peer's own identity: the joiner checks it against the /p2p/ id of the address it was given. */
  privateKey: PrivateKey;
  /** The sync listen addresses: the join listener binds the same hosts, on a port of the OS's choosing. */
  hostsOf: () => string[];
  invites: InviteBook;
  offer: () => Promise<JoinOffer>;
  log: PeerLog;
}

export interface JoinListener {
  /** Starts listening if needed; the addresses a joiner dials (with /p2p/<id>). */
  open(): Promise<string[]>;
  /** Stops listening once no invite is open any more (called after each join and at expiry). */
  closeIfIdle(): Promise<void>;
  stop(): Promise<void>;
}

const REFUSALS: Record<InviteRefusal, string> = {
  wrong: "the invite code is wrong (check it, or run `openprod invite` on the inviting machine again)",
  expired: "the invite code has expired (codes are valid for 10 minutes; run `openprod invite` on the inviting machine again)",
  used: "the invite code was already used (each code lets one machine join; run `openprod invite` again for another)",
  locked: `too many wrong invite codes (${MAX_WRONG_CODES}): every open invite was withdrawn; run \`openprod invite\` on the inviting machine again`,
};

export function createJoinListener(opts: JoinListenerOptions): JoinListener {
  let node: Libp2p | null = null;
  let opening: Promise<Libp2p> | null = null;

  const handle = async (stream: Stream, remote: string): Promise<void> => {
    try {
      const { kind, message } = await readJoinMessage(stream);
      const request = joinRequestOf(kind, message);
      if (request === null) {
        await refuse(stream, { code: "InvalidOperation", message: `expected a join request on ${JOIN_PROTOCOL_ID}` });
        return;
      }
      const refusal = opts.invites.take(request.code);
      if (refusal !== null) {
        opts.log("warn", `refused a join from ${remote}: ${REFUSALS[refusal]}`, { remote, reason: refusal });
        await refuse(stream, { code: "PermissionDenied", message: REFUSALS[refusal] });
        return;
      }
      const offer = await opts.offer();
      await sendJoinMessage(stream, FrameKind.Hello, offer);
      await stream.close();
      opts.log("info", `${request.name ?? "a new peer"} (${remote}) joined the show with an invite: sent the workspace key and ${offer.files.length} configuration file(s)`, {
        remote,
        joiner: request.name ?? null,
      });
    } catch (err) {
      opts.log("warn", `join from ${remote} failed: ${(err as Error).message}`, { remote });
      stream.abort(err as Error);
    } finally {
      void closeIfIdle();
    }
  };

  const open = async (): Promise<string[]> => {
    opening ??= (async () => {
      // The same IP components as the sync listener (e.g. /ip4/127.0.0.1), any free port.
      const hosts = [...new Set(opts.hostsOf().flatMap((a) => multiaddr(a).getComponents().filter((c) => c.name === "ip4" || c.name === "ip6").map((c) => `/${c.name}/${c.value ?? ""}`)))];
      const listen = (hosts.length ? hosts : ["/ip4/0.0.0.0"]).map((h) => `${h}/tcp/0`);
      const n = await createJoinTransport({ privateKey: opts.privateKey, listen });
      await n.handle(JOIN_PROTOCOL_ID, (stream, connection) => void handle(stream, connection.remoteAddr.toString()), { maxInboundStreams: 2 });
      node = n;
      return n;
    })();
    const n = await opening;
    return n.getMultiaddrs().map((a) => a.toString());
  };

  const stop = async (): Promise<void> => {
    const n = opening === null ? null : await opening.catch(() => null);
    opening = null;
    node = null;
    await n?.stop();
  };

  const closeIfIdle = async (): Promise<void> => {
    if (node !== null && opts.invites.pending() === 0) await stop();
  };

  return { open, closeIfIdle, stop };
}

function joinRequestOf(kind: number, message: unknown): JoinRequest | null {
  if (kind !== FrameKind.Hello || typeof message !== "object" || message === null) return null;
  const m = message as Record<string, unknown>;
  if (typeof m.code !== "string") return null;
  return { code: m.code, ...(typeof m.name === "string" ? { name: m.name } : {}) };
}

async function refuse(stream: Stream, refusal: JoinRefusal): Promise<void> {
  await sendJoinMessage(stream, FrameKind.Error, refusal);
  await stream.close();
}
