/** HLC timestamps as they appear on the wire (`<wall ms>-<counter>-<peer>`): the daemon's own parser, for clients. */
export { parseHlc, compareHlc } from "../daemon/crdt/hlc.ts";
export type { HlcTimestamp } from "../daemon/crdt/hlc.ts";
