/**
 * Where the peer node listens, settled before libp2p starts. Every show's
 * default is TCP port 4101, so a second show on the same machine finds its
 * port taken: a configured port that is taken moves to the next free one (the
 * caller says so); a port asked for explicitly (`--listen`) that is taken is
 * one NetworkError line instead of libp2p's stack trace.
 */
import net from "node:net";
import { multiaddr } from "@multiformats/multiaddr";
import { NetworkError } from "../crdt/vocabulary.ts";

/** `/ip4/<host>/tcp/<port>...` or `/ip6/...`: the parts a probe needs; anything else is left to libp2p. */
const TCP_ADDRESS = /^\/(ip4|ip6)\/([^/]+)\/tcp\/(\d+)(\/.*)?$/;

/** How many ports above a taken one are tried before the OS is asked for any free port. */
const SEARCH = 20;

export interface ListenMove {
  from: string;
  to: string;
}

export interface ListenChoice {
  listen: string[];
  /** Configured addresses whose port was taken, and where the node listens instead. */
  moved: ListenMove[];
}

/**
 * `exact`: the addresses were asked for explicitly; a taken port is an error.
 * `fallback`: a taken port moves to the next free port above it.
 */
export async function chooseListen(addresses: readonly string[], mode: "exact" | "fallback"): Promise<ListenChoice> {
  const listen: string[] = [];
  const moved: ListenMove[] = [];
  for (const addr of addresses) {
    const m = TCP_ADDRESS.exec(addr);
    const port = m === null ? 0 : Number(m[3]);
    if (m === null || port === 0 || (await portFree(m[2], port))) {
      listen.push(addr);
      continue;
    }
    if (mode === "exact") throw portInUse(addr, port);
    const [, family, host, , rest = ""] = m;
    let free = 0;
    for (let p = port + 1; p <= Math.min(port + SEARCH, 65535) && free === 0; p++) if (await portFree(host, p)) free = p;
    const to = `/${family}/${host}/tcp/${free}${rest}`;
    listen.push(to);
    moved.push({ from: addr, to });
  }
  return { listen, moved };
}

/** The one line for a port that is in use; also used when libp2p itself reports EADDRINUSE. */
export function portInUse(addr: string, port: number): NetworkError {
  return new NetworkError(
    `cannot listen on ${addr}: port ${port} is in use (another openprod daemon on this machine?); choose another port with --listen (e.g. --listen ${port + 1}, or --listen 0 for any free one)`,
    { addr, port },
  );
}

/** If libp2p failed to listen because a port is taken, the one-line error for it; else null. */
export function listenFailure(err: unknown, addresses: readonly string[]): NetworkError | null {
  const text = err instanceof Error ? `${err.message} ${String((err as { cause?: unknown }).cause ?? "")}` : String(err);
  if (!text.includes("EADDRINUSE")) return null;
  for (const addr of addresses) {
    const m = TCP_ADDRESS.exec(addr);
    if (m !== null && text.includes(`${m[2]}:${m[3]}`)) return portInUse(addr, Number(m[3]));
  }
  return new NetworkError(`cannot listen on ${addresses.join(", ")}: a port is in use (another openprod daemon on this machine?); choose another with --listen`, {
    addresses: [...addresses],
  });
}

function portFree(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = net.createServer();
    // Only a taken port counts: any other failure (an address not on this machine...) is libp2p's to report.
    probe.once("error", (e: NodeJS.ErrnoException) => resolve(e.code !== "EADDRINUSE"));
    probe.listen({ host, port, exclusive: true }, () => probe.close(() => resolve(true)));
  });
}

/**
 * `--listen` values: each a multiaddr, or a bare port meaning the configured
 * addresses on that port (so `--listen 4102` keeps a loopback-only show on loopback).
 */
export function listenOverride(values: readonly string[], configured: readonly string[]): string[] {
  const out: string[] = [];
  for (const v of values) {
    if (!/^\d+$/.test(v)) {
      out.push(v);
      continue;
    }
    const tcp = configured.filter((a) => TCP_ADDRESS.test(a));
    const bases = tcp.length > 0 ? tcp : ["/ip4/0.0.0.0/tcp/0"];
    for (const a of bases) out.push(a.replace(/\/tcp\/\d+/, `/tcp/${Number(v)}`));
  }
  return out;
}

/** Why a `--listen` value cannot be used, or null when it can: a port 0-65535 or a multiaddr. */
export function listenValueProblem(v: string): string | null {
  if (/^\d+$/.test(v)) return Number(v) <= 65535 ? null : `port ${v} is out of range (0-65535)`;
  if (!v.startsWith("/")) return `"${v}" is neither a port nor a multiaddr (e.g. 4102 or /ip4/127.0.0.1/tcp/4102)`;
  try {
    multiaddr(v);
    return null;
  } catch (e) {
    return `"${v}" is not a multiaddr: ${(e as Error).message}`;
  }
}

/** Where a peer listens when [peer] listen says nothing. */
export const DEFAULT_LISTEN = ["/ip4/0.0.0.0/tcp/4101"];
