/**
 * HLC timestamps as they appear on the wire (`<wall ms>-<counter>-<peer>`, zero-padded so the
 * string sorts like the clock). The daemon's clock (daemon/crdt/hlc.ts) parses with these too.
 */

export interface HlcTimestamp {
  readonly wall: number;
  readonly counter: number;
  readonly peer: string;
}

export function parseHlc(s: string): HlcTimestamp {
  const m = /^(\d{15})-(\d{6})-(.+)$/.exec(s);
  if (!m) throw new TypeError(`not an HLC timestamp: "${s}"`);
  return { wall: Number(m[1]), counter: Number(m[2]), peer: m[3] };
}

export function compareHlc(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
