import { spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openPersistence } from "../daemon/crdt/persistence/index.ts";
import { changeBytes, changeHash, seededRandom, snapshotBytes } from "./fixtures/persistence-content.ts";

const WRITER = path.join(import.meta.dirname, "fixtures", "persistence-writer.ts");
const KILLS = 20;
const SEED = 20240611;

let dir: string;

beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "openprod-persistence-crash-"));
});

afterAll(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return Buffer.compare(Buffer.from(a.buffer, a.byteOffset, a.byteLength), Buffer.from(b.buffer, b.byteOffset, b.byteLength)) === 0;
}

/**
 * Runs the writer and kills it with SIGKILL `delayMs` after its first
 * acknowledged append (or, with `fromSpawn`, after it was started, which may
 * hit it while it opens and recovers the store). Returns the highest seq it acknowledged.
 */
function runAndKill(
  seed: number,
  fsync: boolean,
  delayMs: number,
  fromSpawn: boolean,
): Promise<{ acked: number; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["--import", "tsx", WRITER, dir, String(seed), fsync ? "1" : "0"], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    let acked = 0;
    let pending = "";
    let stderr = "";
    let timer: NodeJS.Timeout | undefined;
    const guard = setTimeout(() => child.kill("SIGKILL"), 20_000);
    if (fromSpawn) timer = setTimeout(() => child.kill("SIGKILL"), delayMs);
    child.stdout.setEncoding("utf8");
    child.stdout.on("data", (chunk: string) => {
      pending += chunk;
      const lines = pending.split("\n");
      pending = lines.pop() ?? "";
      for (const line of lines) {
        const m = /^ack (\d+)$/.exec(line);
        if (m) acked = Math.max(acked, Number(m[1]));
      }
      if (acked > 0 && timer === undefined) timer = setTimeout(() => child.kill("SIGKILL"), delayMs);
    });
    child.stderr.setEncoding("utf8");
    child.stderr.on("data", (chunk: string) => (stderr += chunk));
    child.on("error", reject);
    child.on("close", (_code, signal) => {
      clearTimeout(guard);
      if (timer !== undefined) clearTimeout(timer);
      if (signal !== "SIGKILL") reject(new Error(`writer exited by itself (signal ${signal}): ${stderr}`));
      else resolve({ acked, stderr });
    });
  });
}

describe("a daemon killed at any moment restarts with every acknowledged bundle and no partial one", () => {
  it(`survives ${KILLS} SIGKILLs at random moments during appends and compactions`, async () => {
    const random = seededRandom(SEED);
    let ackedEver = 0;
    let compactedRuns = 0;
    for (let kill = 0; kill < KILLS; kill++) {
      const fsync = kill % 3 === 2;
      const fromSpawn = kill % 5 === 4;
      const delay = fromSpawn ? 300 + Math.floor(random() * 700) : Math.floor(random() * 80);
      const { acked, stderr } = await runAndKill(SEED + kill, fsync, delay, fromSpawn);
      expect(stderr, `writer stderr on run ${kill}`).toBe("");
      ackedEver = Math.max(ackedEver, acked);

      const p = await openPersistence({ dir, fsync: false });
      const state = await p.load();
      const context = `run ${kill} (seed ${SEED}, fsync ${fsync}, acked ${acked})`;
      expect(state.damaged, context).toEqual([]);

      const upto = state.snapshot?.uptoSeq ?? 0;
      if (state.snapshot !== null) {
        compactedRuns++;
        expect(sameBytes(state.snapshot.bytes, snapshotBytes(upto)), context).toBe(true);
        expect(state.snapshot.heads, context).toEqual([changeHash(upto)]);
      }
      // The changes after the snapshot are contiguous and intact: no gap, no partial bundle.
      state.changes.forEach((c, i) => {
        expect(c.seq, context).toBe(upto + 1 + i);
        expect(c.hash, context).toBe(changeHash(c.seq));
        expect(sameBytes(c.bytes, changeBytes(c.seq)), context).toBe(true);
      });
      const lastSeq = state.changes.length > 0 ? state.changes[state.changes.length - 1].seq : upto;
      expect(lastSeq, context).toBeGreaterThanOrEqual(ackedEver);
      expect(state.recordedHeads, context).toEqual([changeHash(lastSeq)]);

      // Each bundle's side record was committed with it: the last bundle's is there, none from beyond it.
      const sideSeqs: number[] = [];
      for await (const [key] of p.records("ack").list()) sideSeqs.push(Number(key));
      expect(sideSeqs, context).toContain(lastSeq);
      expect(Math.max(...sideSeqs), context).toBe(lastSeq);
      await p.close();
    }
    // The kills must have hit a store that compacts, or the test proves less than it says.
    expect(compactedRuns).toBeGreaterThan(KILLS / 2);
  }, 60_000);
});
