/**
 * Checksummed encodings of the stored records. Every value starts with a
 * CRC-32 (little endian) of everything after it, then a format version byte,
 * so a flipped bit, a truncated value or a record from a future format is
 * reported instead of being handed to Automerge.
 *
 *   change:        crc32 | ver | seq u48 | hashLen u16 | hash utf8 | change bytes
 *   heads:         crc32 | ver | seq u48 | heads utf8 joined by "\n"
 *   snapshot meta: crc32 | ver | uptoSeq u48 | length u48 | crc32 of s:snapshot | heads utf8 joined by "\n"
 *   side record:   crc32 | ver | payload
 *
 * The seq inside a change record must match its key, so a value that ended up
 * under the wrong key is caught too.
 */

import { crc32 } from "node:zlib";
import { InvalidOperation } from "../errors.ts";

const VERSION = 1;
const CRC = 4;
const HEADER = CRC + 1;
const U48 = 6;
const CHANGE_FIXED = HEADER + U48 + 2;
const HEADS_FIXED = HEADER + U48;
const SNAPSHOT_META_FIXED = HEADER + U48 + U48 + CRC;
const HEADS_SEPARATOR = "\n";

/** A decoded record, or the reason it could not be decoded. */
export type Decoded<T> = { ok: true; value: T } | { ok: false; reason: string };

function asBuffer(v: Uint8Array): Buffer {
  return Buffer.isBuffer(v) ? v : Buffer.from(v.buffer, v.byteOffset, v.byteLength);
}

/** A view on part of `v` that is a plain Uint8Array (no copy), so callers never see Buffer-only behaviour. */
function view(v: Uint8Array, start: number, end: number = v.byteLength): Uint8Array {
  return new Uint8Array(v.buffer, v.byteOffset + start, end - start);
}

function seal(buf: Buffer): Buffer {
  buf[CRC] = VERSION;
  buf.writeUInt32LE(crc32(buf.subarray(CRC)), 0);
  return buf;
}

/** Checks checksum and version; returns the reason on failure. */
function verify(buf: Buffer, minLength: number): string | undefined {
  if (buf.byteLength < minLength) {
    return `record is truncated: ${buf.byteLength} bytes, at least ${minLength} expected`;
  }
  const stored = buf.readUInt32LE(0);
  const computed = crc32(buf.subarray(CRC));
  if (stored !== computed) {
    return `checksum mismatch: stored crc32 ${hex32(stored)}, computed ${hex32(computed)} over ${buf.byteLength - CRC} bytes`;
  }
  if (buf[CRC] !== VERSION) return `unknown record format version ${buf[CRC]} (this daemon reads version ${VERSION})`;
  return undefined;
}

function hex32(n: number): string {
  return "0x" + n.toString(16).padStart(8, "0");
}

function encodeHeads(heads: string[], what: string): string {
  for (const h of heads) {
    if (h.includes(HEADS_SEPARATOR)) {
      throw new InvalidOperation(`${what}: head ${JSON.stringify(h)} contains a newline; heads are hex change hashes`, {
        head: h,
      });
    }
  }
  return heads.join(HEADS_SEPARATOR);
}

function decodeHeads(buf: Buffer, start: number): string[] {
  if (start === buf.byteLength) return [];
  return buf.toString("utf8", start).split(HEADS_SEPARATOR);
}

export function encodeChange(seq: number, hash: string, bytes: Uint8Array): Buffer {
  const hashLength = Buffer.byteLength(hash, "utf8");
  if (hashLength > 0xffff) {
    throw new InvalidOperation(`change hash is ${hashLength} bytes long; at most 65535 are stored`, { seq });
  }
  const buf = Buffer.allocUnsafe(CHANGE_FIXED + hashLength + bytes.byteLength);
  buf.writeUIntLE(seq, HEADER, U48);
  buf.writeUInt16LE(hashLength, HEADER + U48);
  buf.write(hash, CHANGE_FIXED, hashLength, "utf8");
  buf.set(bytes, CHANGE_FIXED + hashLength);
  return seal(buf);
}

export function decodeChange(seq: number, value: Uint8Array): Decoded<{ seq: number; hash: string; bytes: Uint8Array }> {
  const buf = asBuffer(value);
  const bad = verify(buf, CHANGE_FIXED);
  if (bad !== undefined) return { ok: false, reason: bad };
  const storedSeq = buf.readUIntLE(HEADER, U48);
  if (storedSeq !== seq) return { ok: false, reason: `record holds seq ${storedSeq} but is stored under seq ${seq}` };
  const hashEnd = CHANGE_FIXED + buf.readUInt16LE(HEADER + U48);
  if (hashEnd > buf.byteLength) return { ok: false, reason: `hash length runs past the end of the record` };
  return { ok: true, value: { seq, hash: buf.toString("utf8", CHANGE_FIXED, hashEnd), bytes: view(value, hashEnd) } };
}

/** Best-effort read of the hash of a change record that failed verification, to name it in reports. */
export function peekChangeHash(value: Uint8Array): string | undefined {
  const buf = asBuffer(value);
  if (buf.byteLength < CHANGE_FIXED) return undefined;
  const hashEnd = CHANGE_FIXED + buf.readUInt16LE(HEADER + U48);
  if (hashEnd > buf.byteLength) return undefined;
  const hash = buf.toString("utf8", CHANGE_FIXED, hashEnd);
  return /^[0-9a-f]+$/i.test(hash) ? hash : undefined;
}

export function encodeHeadsRecord(seq: number, heads: string[]): Buffer {
  const text = encodeHeads(heads, "recorded heads");
  const buf = Buffer.allocUnsafe(HEADS_FIXED + Buffer.byteLength(text, "utf8"));
  buf.writeUIntLE(seq, HEADER, U48);
  buf.write(text, HEADS_FIXED, "utf8");
  return seal(buf);
}

export function decodeHeadsRecord(value: Uint8Array): Decoded<{ seq: number; heads: string[] }> {
  const buf = asBuffer(value);
  const bad = verify(buf, HEADS_FIXED);
  if (bad !== undefined) return { ok: false, reason: bad };
  return { ok: true, value: { seq: buf.readUIntLE(HEADER, U48), heads: decodeHeads(buf, HEADS_FIXED) } };
}

export interface SnapshotMeta {
  uptoSeq: number;
  length: number;
  checksum: number;
  heads: string[];
}

export function encodeSnapshotMeta(uptoSeq: number, snapshot: Uint8Array, heads: string[]): Buffer {
  const text = encodeHeads(heads, "snapshot heads");
  const buf = Buffer.allocUnsafe(SNAPSHOT_META_FIXED + Buffer.byteLength(text, "utf8"));
  buf.writeUIntLE(uptoSeq, HEADER, U48);
  buf.writeUIntLE(snapshot.byteLength, HEADER + U48, U48);
  buf.writeUInt32LE(crc32(snapshot), HEADER + 2 * U48);
  buf.write(text, SNAPSHOT_META_FIXED, "utf8");
  return seal(buf);
}

export function decodeSnapshotMeta(value: Uint8Array): Decoded<SnapshotMeta> {
  const buf = asBuffer(value);
  const bad = verify(buf, SNAPSHOT_META_FIXED);
  if (bad !== undefined) return { ok: false, reason: bad };
  return {
    ok: true,
    value: {
      uptoSeq: buf.readUIntLE(HEADER, U48),
      length: buf.readUIntLE(HEADER + U48, U48),
      checksum: buf.readUInt32LE(HEADER + 2 * U48),
      heads: decodeHeads(buf, SNAPSHOT_META_FIXED),
    },
  };
}

/** Checks the snapshot bytes against their metadata; returns the reason on mismatch. */
export function verifySnapshot(meta: SnapshotMeta, snapshot: Uint8Array): string | undefined {
  if (snapshot.byteLength !== meta.length) {
    return `snapshot is ${snapshot.byteLength} bytes, its metadata says ${meta.length}`;
  }
  const computed = crc32(snapshot);
  if (computed !== meta.checksum) {
    return `checksum mismatch: metadata crc32 ${hex32(meta.checksum)}, computed ${hex32(computed)} over ${snapshot.byteLength} bytes`;
  }
  return undefined;
}

export function encodeSideRecord(payload: Uint8Array): Buffer {
  const buf = Buffer.allocUnsafe(HEADER + payload.byteLength);
  buf.set(payload, HEADER);
  return seal(buf);
}

export function decodeSideRecord(value: Uint8Array): Decoded<Uint8Array> {
  const buf = asBuffer(value);
  const bad = verify(buf, HEADER);
  if (bad !== undefined) return { ok: false, reason: bad };
  return { ok: true, value: view(value, HEADER) };
}

/** Plain Uint8Array view of a LevelDB value (which may be a Buffer). */
export function plainBytes(value: Uint8Array): Uint8Array {
  return view(value, 0);
}
