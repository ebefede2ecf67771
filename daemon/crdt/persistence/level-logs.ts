/**
 * LevelDB's paranoid checks, done by us before LevelDB opens the directory.
 * classic-level does not expose `paranoid_checks`, and without them LevelDB's
 * recovery drops every log record after a checksum mismatch, writes what is
 * left into a table and deletes the damaged log: acknowledged bundles vanish
 * without a word. So we read the write-ahead logs and the MANIFEST ourselves
 * (read-only) and verify every record's CRC-32C, exactly as LevelDB's log
 * reader frames them (leveldb/db/log_format.h):
 *
 *   32 KiB blocks; each record: masked crc32c u32 | length u16 | type u8 | data
 *   (crc over type and data); fewer than 7 bytes left in a block are padding.
 *
 * A record cut short at the very end of the last block is a write the process
 * died in the middle of (never acknowledged), exactly as LevelDB treats it;
 * anything else that fails to verify is damage.
 */

import fs from "node:fs";
import path from "node:path";
import type { DamagedFile } from "./contract.ts";
import { crc32c, unmaskCrc } from "./crc32c.ts";

const BLOCK = 32 * 1024;
const HEADER = 7;
const LAST_TYPE = 4;


/** The write-ahead logs and the current MANIFEST of the store in `dir`, checked record by record. */
export function checkLevelLogs(dir: string): DamagedFile[] {
  const out: DamagedFile[] = [];
  for (const name of logFiles(dir)) {
    const file = path.join(dir, name);
    let bytes: Buffer;
    try {
      bytes = fs.readFileSync(file);
    } catch {
      // Vanished meanwhile (a running daemon rotated it): nothing of it is left to verify.
      continue;
    }
    const damage = checkLog(bytes);
    if (damage) out.push({ file, ...damage });
  }
  return out;
}

function logFiles(dir: string): string[] {
  const names = fs.readdirSync(dir).filter((n) => /^\d+\.log$/.test(n));
  const manifest = currentManifest(dir);
  if (manifest !== undefined) names.push(manifest);
  return names.sort();
}

/** The MANIFEST that CURRENT names; a missing or malformed CURRENT is LevelDB's to report. */
function currentManifest(dir: string): string | undefined {
  let current: string;
  try {
    current = fs.readFileSync(path.join(dir, "CURRENT"), "utf8");
  } catch {
    return undefined;
  }
  const name = current.trim();
  return /^MANIFEST-\d+$/.test(name) && fs.existsSync(path.join(dir, name)) ? name : undefined;
}

/** The first damage in one log-format file, with the total LevelDB would drop; undefined when it all verifies. */
export function checkLog(bytes: Uint8Array): Omit<DamagedFile, "file"> | undefined {
  let first: { offset: number; reason: string } | undefined;
  let dropped = 0;
  const damage = (offset: number, end: number, reason: string): void => {
    first ??= { offset, reason };
    dropped += end - offset;
  };
  for (let blockStart = 0; blockStart < bytes.length; blockStart += BLOCK) {
    const blockEnd = Math.min(blockStart + BLOCK, bytes.length);
    const lastBlock = blockEnd === bytes.length && blockEnd - blockStart < BLOCK;
    let p = blockStart;
    while (blockEnd - p >= HEADER) {
      const length = bytes[p + 4] | (bytes[p + 5] << 8);
      const type = bytes[p + 6];
      if (type === 0 && length === 0) {
        // Preallocated space: LevelDB skips the rest of the block, so it must hold nothing.
        if (!allZero(bytes, p, blockEnd)) damage(p, blockEnd, "a zeroed record header in the middle of data");
        break;
      }
      if (p + HEADER + length > blockEnd) {
        if (!lastBlock) damage(p, blockEnd, `a record of ${length} bytes runs past the end of its block`);
        // Else: the tail of a write that never completed, as after a crash.
        break;
      }
      const stored = unmaskCrc(readU32(bytes, p));
      if (crc32c(bytes, p + 6, p + HEADER + length) !== stored) {
        damage(p, blockEnd, "checksum mismatch");
        break;
      }
      if (type > LAST_TYPE) damage(p, p + HEADER + length, `unknown record type ${type}`);
      p += HEADER + length;
    }
  }
  return first === undefined ? undefined : { offset: first.offset, bytes: dropped, reason: first.reason };
}

function readU32(b: Uint8Array, p: number): number {
  return (b[p] | (b[p + 1] << 8) | (b[p + 2] << 16) | (b[p + 3] << 24)) >>> 0;
}

function allZero(b: Uint8Array, from: number, to: number): boolean {
  for (let i = from; i < to; i++) if (b[i] !== 0) return false;
  return true;
}
