import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import fc from "fast-check";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { crc32c, maskCrc, unmaskCrc } from "../daemon/crdt/persistence/crc32c.ts";
import { checkLog } from "../daemon/crdt/persistence/level-logs.ts";
import { AcknowledgedWriter, readAcknowledged } from "../daemon/crdt/persistence/acknowledged-record.ts";

const BLOCK = 32 * 1024;

/** Frames payloads as LevelDB's log writer does: FULL records, or FIRST/MIDDLE/LAST across blocks, padding block tails. */
function frame(payloads: Uint8Array[]): Buffer {
  const out: number[] = [];
  for (const payload of payloads) {
    let left = payload.length;
    let p = 0;
    let first = true;
    do {
      const room = BLOCK - (out.length % BLOCK);
      if (room < 7) {
        for (let i = 0; i < room; i++) out.push(0);
        continue;
      }
      const n = Math.min(left, room - 7);
      const end = left === n;
      const type = first && end ? 1 : first ? 2 : end ? 4 : 3;
      const body = Buffer.concat([Buffer.from([type]), payload.subarray(p, p + n)]);
      const crc = maskCrc(crc32c(body));
      out.push(crc & 0xff, (crc >>> 8) & 0xff, (crc >>> 16) & 0xff, crc >>> 24, n & 0xff, n >>> 8);
      for (const b of body) out.push(b);
      p += n;
      left -= n;
      first = false;
    } while (left > 0);
  }
  return Buffer.from(out);
}

const payloads = (count: number, size: number): Uint8Array[] =>
  Array.from({ length: count }, (_, i) => Uint8Array.from({ length: size + (i % 7) }, (_, j) => (i * 31 + j) & 0xff));

describe("LevelDB's log records are verified the way its reader frames them", () => {
  it("CRC-32C matches the standard check value, and masking round-trips", () => {
    expect(crc32c(Buffer.from("123456789"))).toBe(0xe3069283);
    fc.assert(fc.property(fc.integer({ min: 0, max: 0xffffffff }), (n) => unmaskCrc(maskCrc(n)) === n));
  });

  it("an intact log verifies, including records spanning blocks", () => {
    expect(checkLog(frame(payloads(300, 500)))).toBeUndefined();
    expect(checkLog(frame(payloads(3, 70_000)))).toBeUndefined();
  });

  it("a record cut short at the end is a crash's unfinished write, not damage", () => {
    const log = frame(payloads(300, 500));
    expect(checkLog(log.subarray(0, log.length - 100))).toBeUndefined();
  });

  it("64 overwritten bytes are found, with the offset and what LevelDB would drop", () => {
    const log = frame(payloads(300, 500));
    const at = 50_000;
    log.fill(0x5a, at, at + 64);
    const damage = checkLog(log);
    expect(damage?.reason).toBe("checksum mismatch");
    expect(damage?.offset).toBeLessThanOrEqual(at);
    expect(damage?.offset).toBeGreaterThan(at - 520);
    // The rest of that block is lost to LevelDB's recovery.
    expect(damage?.bytes).toBe(2 * BLOCK - (damage?.offset ?? 0));
  });

  it("a zeroed stretch inside data and a length running past a full block are damage", () => {
    const zeroed = frame(payloads(300, 500));
    zeroed.fill(0, 1000, 1007);
    expect(checkLog(zeroed)?.reason).toMatch(/zeroed record header|checksum mismatch/);
    const long = frame(payloads(300, 500));
    long[4] = 0xff;
    long[5] = 0x7f;
    expect(checkLog(long)?.reason).toMatch(/runs past the end of its block/);
  });
});

describe("the acknowledged record survives a torn write", () => {
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "openprod-ack-"));
  });
  afterEach(() => {
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it("keeps the newest slot that verifies; a damaged slot falls back to the one before; both damaged is reported", () => {
    const file = path.join(dir, "ack");
    expect(readAcknowledged(file)).toEqual({ state: "none" });
    const w = new AcknowledgedWriter(file, null);
    w.write(1, ["a"]);
    w.write(2, ["b", "c"]);
    w.write(3, ["d"]);
    w.close();
    expect(readAcknowledged(file)).toEqual({ state: "ok", value: { seq: 3, heads: ["d"] } });
    // Seq 3 went to slot 0 (1: slot 0, 2: slot 1, 3: slot 0): tear it.
    const fd = fs.openSync(file, "r+");
    fs.writeSync(fd, Buffer.from([0xff]), 0, 1, 12);
    expect(readAcknowledged(file)).toEqual({ state: "ok", value: { seq: 2, heads: ["b", "c"] } });
    fs.writeSync(fd, Buffer.from([0xff]), 0, 1, 4096 + 12);
    fs.closeSync(fd);
    expect(readAcknowledged(file)).toMatchObject({ state: "damaged", reason: expect.stringMatching(/neither of its 2 slot/) });
  });
});
