/**
 * How the CLI shows the show's things to a technician: entities by name
 * (beside a short id), times as local clock times, HLC values (`fired_at`
 * stamped from `context.hlc_time()`) as times too. `--json` keeps the raw
 * ids and HLC strings; this is only for text.
 */
import type { Connection } from "./connection.ts";
import { shortId } from "../offline/index.ts";

const HLC = /^(\d{15})-(\d{6})-.+$/;

const two = (n: number): string => String(n).padStart(2, "0");

/** Local clock time `20:14:03`; with the date in front when it is not today. */
export function clockTime(ms: number, now: number = Date.now()): string {
  const d = new Date(ms);
  const t = `${two(d.getHours())}:${two(d.getMinutes())}:${two(d.getSeconds())}`;
  return new Date(now).toDateString() === d.toDateString() ? t : `${d.getFullYear()}-${two(d.getMonth() + 1)}-${two(d.getDate())} ${t}`;
}

/** The wall-clock part of an HLC string as a local time; anything else unchanged. */
export function hlcTime(hlc: string, now?: number): string {
  const m = HLC.exec(hlc);
  return m ? clockTime(Number(m[1]), now) : hlc;
}

/** A field value as text: strings bare, HLC strings as times, the rest JSON. */
export function showValue(v: unknown): string {
  if (v === undefined) return "(unset)";
  if (typeof v === "string") return HLC.test(v) ? hlcTime(v) : v;
  return JSON.stringify(v);
}


/**
 * Display names fetched from the daemon (`entities.names`) in one call for
 * every id a listing shows. An id the workspace does not hold (deleted,
 * pending in a session) is shown as itself.
 */
export class EntityNames {
  private readonly names = new Map<string, string>();

  static async load(c: Connection, ids: Iterable<string>): Promise<EntityNames> {
    const n = new EntityNames();
    const wanted = [...new Set(ids)].filter((id) => id !== "");
    if (wanted.length === 0) return n;
    const r = await c.call("entities.names", { ids: wanted });
    for (const [id, name] of Object.entries(r.names)) n.names.set(id, name);
    return n;
  }

  /** Known names beside the ones fetched (e.g. entities created in a session, named from their values). */
  add(id: string, name: string): void {
    this.names.set(id, name);
  }

  has(id: string): boolean {
    return this.names.has(id);
  }

  /** `Q12 Blackout (…Q8W000)`, or the id when no name is known. */
  label(id: string): string {
    const name = this.names.get(id);
    return name === undefined ? id : `${name} (${shortId(id)})`;
  }
}

/**
 * Peer names as this daemon knows them: its own (`[peer] name`) and those of the peers
 * it syncs with now (told in their hello). Another peer shows as the end of its id.
 */
export async function peerNames(c: Connection): Promise<(peerId: string | null) => string> {
  const r = await c.call("peers.list");
  const names = new Map<string, string>([[r.peerId, r.peerName]]);
  for (const p of r.peers) if (p.name) names.set(p.peerId, p.name);
  return (id) => (id === null ? "?" : (names.get(id) ?? `…${id.slice(-8)}`));
}
