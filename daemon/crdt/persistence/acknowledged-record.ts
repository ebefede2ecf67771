/**
 * An independent record of what the store last acknowledged: the seq of the
 * last durable change and the heads after it, kept in a small file of its own
 * (the daemon keeps it beside the LevelDB directory, not in it). If LevelDB
 * ever comes back with less than this, bundles that were acknowledged are
 * gone, and the store is refused instead of quietly starting with less.
 *
 * Cost: one positioned write of a few hundred bytes per LevelDB batch (not per
 * bundle, and no extra fsync). The file holds two slots written in turn, each
 * with its own checksum, so a write torn by a crash leaves the other slot,
 * one batch older, intact. Without its own fsync the record can lag behind the
 * disk after a power loss, never run ahead of it: it is written only after the
 * batch it describes is durable. A lagging record is still a true lower bound.
 *
 *   slot (4 KiB): "OPAK" | crc32 u32 of the rest | ver u8 | seq u48 | count u16 | (len u8 | head utf8)*count
 */

import fs from "node:fs";
import { crc32 } from "node:zlib";

/** The record's default place (inside the LevelDB directory), when the caller keeps none of its own. */
export const DEFAULT_ACKNOWLEDGED_FILE = "ACKNOWLEDGED";

const MAGIC = 0x4b41504f; // "OPAK" little endian
const VERSION = 1;
const SLOT = 4096;
const FIXED = 4 + 4 + 1 + 6 + 2;

export interface Acknowledged {
  /** The last seq acknowledged (changes are numbered from 1). */
  seq: number;
  /** The heads after it; only the first ones when there were too many to fit a slot. */
  heads: string[];
}

export type AcknowledgedRead =
  | { state: "none" }
  | { state: "ok"; value: Acknowledged }
  | { state: "damaged"; reason: string };

/** Reads the record without changing it. */
export function readAcknowledged(file: string): AcknowledgedRead {
  let bytes: Buffer;
  try {
    bytes = fs.readFileSync(file);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return { state: "none" };
    return { state: "damaged", reason: (e as Error).message };
  }
  if (bytes.length === 0) return { state: "none" };
  let best: Acknowledged | undefined;
  for (let offset = 0; offset < bytes.length; offset += SLOT) {
    const slot = decodeSlot(bytes.subarray(offset, offset + SLOT));
    if (slot !== undefined && (best === undefined || slot.seq > best.seq)) best = slot;
  }
  if (best === undefined) return { state: "damaged", reason: `neither of its ${Math.ceil(bytes.length / SLOT)} slot(s) verifies` };
  return { state: "ok", value: best };
}

function decodeSlot(b: Buffer): Acknowledged | undefined {
  if (b.length < FIXED || b.readUInt32LE(0) !== MAGIC) return undefined;
  const used = encodedLength(b);
  if (used === undefined || crc32(b.subarray(8, used)) !== b.readUInt32LE(4) || b[8] !== VERSION) return undefined;
  const seq = b.readUIntLE(9, 6);
  const count = b.readUInt16LE(15);
  const heads: string[] = [];
  let p = FIXED;
  for (let i = 0; i < count; i++) {
    const len = b[p];
    heads.push(b.toString("utf8", p + 1, p + 1 + len));
    p += 1 + len;
  }
  return { seq, heads };
}

/** Where the slot's content ends, or undefined if its lengths run past the slot. */
function encodedLength(b: Buffer): number | undefined {
  const count = b.readUInt16LE(15);
  let p = FIXED;
  for (let i = 0; i < count; i++) {
    if (p >= b.length) return undefined;
    p += 1 + b[p];
  }
  return p <= b.length ? p : undefined;
}

/** The record of one open store: written after every durable batch. */
export class AcknowledgedWriter {
  private readonly buf = Buffer.alloc(SLOT);
  private slot = 0;
  private fd: number | null = null;

  constructor(
    readonly file: string,
    private last: Acknowledged | null,
  ) {}

  /** Records `seq` and `heads`; a no-op when they are what was recorded last. */
  write(seq: number, heads: string[]): void {
    if (this.last !== null && this.last.seq === seq && sameList(this.last.heads, heads)) return;
    const b = this.buf;
    b.writeUInt32LE(MAGIC, 0);
    b[8] = VERSION;
    b.writeUIntLE(seq, 9, 6);
    let p = FIXED;
    let count = 0;
    for (const h of heads) {
      const len = Buffer.byteLength(h);
      if (len > 255 || p + 1 + len > SLOT) break;
      b[p] = len;
      b.write(h, p + 1, "utf8");
      p += 1 + len;
      count++;
    }
    b.writeUInt16LE(count, 15);
    b.writeUInt32LE(crc32(b.subarray(8, p)), 4);
    // Opened lazily so a store that never writes never creates the file.
    this.fd ??= fs.openSync(this.file, fs.constants.O_RDWR | fs.constants.O_CREAT, 0o600);
    fs.writeSync(this.fd, b, 0, p, this.slot * SLOT);
    this.slot ^= 1;
    this.last = { seq, heads: heads.slice(0, count) };
  }

  close(): void {
    if (this.fd !== null) fs.closeSync(this.fd);
    this.fd = null;
  }
}

function sameList(a: string[], b: string[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

/**
 * The acknowledged seqs a loaded store lacks: those after its snapshot (or
 * all, without a usable one) up to the acknowledged seq that hold no change.
 * A change record that is present but damaged counts as missing too.
 */
export function missingSeqs(acknowledgedSeq: number, state: { snapshot: { uptoSeq: number } | null; changes: { seq: number }[] }): number[] {
  const have = new Set<number>();
  for (const c of state.changes) have.add(c.seq);
  const out: number[] = [];
  for (let seq = (state.snapshot?.uptoSeq ?? 0) + 1; seq <= acknowledgedSeq; seq++) if (!have.has(seq)) out.push(seq);
  return out;
}

/** "299 of the 300 bundles acknowledged (#2..#300)": how a refusal says what is missing. */
export function describeMissing(missing: number[], acknowledgedSeq: number): string {
  if (missing.length === 0) return "none of the bundles acknowledged";
  const span = missing.length === 1 ? `#${missing[0]}` : `#${missing[0]}..#${missing[missing.length - 1]}`;
  return `${missing.length} of the ${acknowledgedSeq} bundle(s) acknowledged (${span})`;
}
