/**
 * Key layout of the workspace store. Everything lives in one LevelDB so a
 * bundle and its side records commit in one atomic batch.
 *
 *   m:format        store format marker
 *   m:heads         heads (and seq) recorded by the last append/compaction
 *   m:snapshot      snapshot metadata: uptoSeq, heads, length and checksum of s:snapshot
 *   s:snapshot      the full Automerge save (raw bytes, may be several MB)
 *   c:<seq>         one Automerge change; seq zero-padded to 16 digits so keys sort by seq
 *   r:<ns>\0<key>   side record `key` of namespace `ns`
 */

import { InvalidOperation } from "../errors.ts";

export const FORMAT_KEY = "m:format";
export const FORMAT_VALUE = "openprod-store/1";
export const HEADS_KEY = "m:heads";
export const SNAPSHOT_META_KEY = "m:snapshot";
export const SNAPSHOT_KEY = "s:snapshot";

const CHANGE_PREFIX = "c:";
const SEQ_DIGITS = 16;
/** Every change key k satisfies CHANGE_FIRST <= k < CHANGE_END (';' follows ':'). */
export const CHANGE_FIRST = CHANGE_PREFIX;
export const CHANGE_END = "c;";

const RECORD_PREFIX = "r:";
const NAMESPACE_END = "\u0000";
export const RECORD_FIRST = RECORD_PREFIX;
export const RECORD_END = "r;";

export function changeKey(seq: number): string {
  return CHANGE_PREFIX + String(seq).padStart(SEQ_DIGITS, "0");
}

/** The seq of a change key, or undefined if the key is not a well-formed change key. */
export function seqOfChangeKey(key: string): number | undefined {
  if (key.length !== CHANGE_PREFIX.length + SEQ_DIGITS || !key.startsWith(CHANGE_PREFIX)) return undefined;
  const digits = key.slice(CHANGE_PREFIX.length);
  return /^\d+$/.test(digits) ? Number(digits) : undefined;
}

export function checkNamespace(namespace: string): void {
  if (namespace.length === 0 || namespace.includes(NAMESPACE_END)) {
    throw new InvalidOperation(
      `record namespace ${JSON.stringify(namespace)} is not allowed: it must be non-empty and contain no NUL character`,
      { namespace },
    );
  }
}

export function recordKey(namespace: string, key: string): string {
  return RECORD_PREFIX + namespace + NAMESPACE_END + key;
}

export function namespacePrefix(namespace: string): string {
  return RECORD_PREFIX + namespace + NAMESPACE_END;
}

/** Splits a side-record key into namespace and key, or undefined if malformed. */
export function parseRecordKey(full: string): { namespace: string; key: string } | undefined {
  if (!full.startsWith(RECORD_PREFIX)) return undefined;
  const end = full.indexOf(NAMESPACE_END, RECORD_PREFIX.length);
  if (end < 0) return undefined;
  return { namespace: full.slice(RECORD_PREFIX.length, end), key: full.slice(end + 1) };
}

/**
 * Byte bounds of every key that starts with `prefix`. 0xFF never occurs in
 * UTF-8, so appending it gives an exclusive upper bound that no string key
 * with this prefix can reach, whatever characters follow.
 */
export function prefixBounds(prefix: string): { gte: Uint8Array; lt: Uint8Array } {
  const gte = Buffer.from(prefix, "utf8");
  const lt = Buffer.allocUnsafe(gte.length + 1);
  gte.copy(lt, 0);
  lt[gte.length] = 0xff;
  return { gte, lt };
}
