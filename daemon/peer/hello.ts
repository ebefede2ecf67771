import { FrameError } from "./frame.ts";

/** Version of the /openprod/sync conversation carried in the hello; bumped on incompatible change. */
export const SYNC_PROTOCOL_VERSION = 1;
export const SYNC_PROTOCOL_ID = "/openprod/sync/1.0.0";

/** First frame each way: who is speaking, about which workspace. */
export interface Hello {
  protocol: number;
  workspaceId: string;
  peerId: string;
  /** The peer's name for people (`[peer] name`, default its hostname); optional so older peers still talk. */
  name?: string;
  /** The modules it runs, as `name@version`, sorted; optional so older peers still talk. */
  modules?: string[];
}

/** Last frame before a refusal closes the connection, so the other side can say why. */
export interface Refusal {
  code: "WorkspaceMismatch" | "ProtocolMismatch" | "PeerIdMismatch" | "BadFrame" | "BadSyncMessage" | "Duplicate";
  message: string;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder("utf-8", { fatal: true });

export function encodeJson(value: Hello | Refusal): Uint8Array {
  return encoder.encode(JSON.stringify(value));
}

function parseObject(payload: Uint8Array, what: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(decoder.decode(payload));
  } catch {
    throw new FrameError(`${what} frame is not UTF-8 JSON (${payload.byteLength} bytes)`);
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new FrameError(`${what} frame is not a JSON object`);
  }
  return value as Record<string, unknown>;
}

export function parseHello(payload: Uint8Array): Hello {
  const o = parseObject(payload, "hello");
  if (typeof o.protocol !== "number" || typeof o.workspaceId !== "string" || typeof o.peerId !== "string") {
    throw new FrameError(`hello frame must carry protocol (number), workspaceId and peerId (strings); got ${JSON.stringify(o).slice(0, 200)}`);
  }
  const name = typeof o.name === "string" && o.name.length > 0 ? o.name.slice(0, 100) : undefined;
  const modules = Array.isArray(o.modules) ? o.modules.filter((m): m is string => typeof m === "string").slice(0, 1000).map((m) => m.slice(0, 200)) : undefined;
  return { protocol: o.protocol, workspaceId: o.workspaceId, peerId: o.peerId, ...(name === undefined ? {} : { name }), ...(modules === undefined ? {} : { modules }) };
}

/**
 * How two peers' module lists differ, in words (null when they match or the other peer did not
 * say): entities of a table only one side declares sync fine but the other cannot show them.
 */
export function modulesDifference(local: readonly string[], remote: readonly string[] | undefined): string | null {
  if (remote === undefined) return null;
  const byName = (list: readonly string[]): Map<string, string> => new Map(list.map((m) => [m.split("@")[0], m]));
  const mine = byName(local);
  const theirs = byName(remote);
  const parts: string[] = [];
  for (const [n, m] of theirs) {
    const own = mine.get(n);
    if (own === undefined) parts.push(`it runs ${m}, which this peer lacks`);
    else if (own !== m) parts.push(`it runs ${m}, this peer ${own}`);
  }
  for (const [n, m] of mine) if (!theirs.has(n)) parts.push(`it lacks ${m}`);
  return parts.length ? parts.join("; ") : null;
}

export function parseRefusal(payload: Uint8Array): Refusal {
  const o = parseObject(payload, "error");
  const code = typeof o.code === "string" ? o.code : "BadFrame";
  const message = typeof o.message === "string" ? o.message : "(no message)";
  return { code: code as Refusal["code"], message };
}
