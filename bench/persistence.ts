/**
 * Workspace persistence on LevelDB: cost of one durable append, and of
 * appends from 16 concurrent writers with fsync (group commit). Each figure
 * is paired with raw LevelDB doing the same writes in the same run, so the
 * overhead of our layer survives a noisy machine.
 */

import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { Level } from "level";
import { openPersistence } from "../daemon/crdt/persistence/index.ts";
import { size } from "./scale.ts";

type Report = (name: string, value: number, unit: string) => void;

const SMALL_CHANGE = new Uint8Array(120).fill(7);
const HASH = "ab".repeat(32);
const SINGLE_APPENDS = size(4000);
const WARMUP = size(500);
const WRITERS = 16;
const APPENDS_PER_WRITER = size(40);

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))];
}

function tempDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), "openprod-bench-persistence-"));
}

/**
 * One durable append at a time, no fsync. Raw LevelDB writing the same two
 * records (change + heads) in one batch is timed in alternation with it, so
 * both see the same machine load.
 */
async function singleAppend(report: Report): Promise<void> {
  const dir = tempDir();
  const rawDir = tempDir();
  try {
    const p = await openPersistence({ dir, fsync: false });
    const raw = new Level<string, Uint8Array>(rawDir, { keyEncoding: "utf8", valueEncoding: "view" });
    await raw.open();
    const heads = [HASH];
    const change = { hash: HASH, bytes: SMALL_CHANGE };
    const headsValue = SMALL_CHANGE.subarray(0, 70);
    const ours: number[] = [];
    const baseline: number[] = [];
    for (let i = 0; i < WARMUP + SINGLE_APPENDS; i++) {
      let start = process.hrtime.bigint();
      await p.appendChanges([change], heads);
      if (i >= WARMUP) ours.push(Number(process.hrtime.bigint() - start) / 1000);
      start = process.hrtime.bigint();
      await raw.batch([
        { type: "put", key: "c:" + String(i).padStart(16, "0"), value: SMALL_CHANGE },
        { type: "put", key: "m:heads", value: headsValue },
      ]);
      if (i >= WARMUP) baseline.push(Number(process.hrtime.bigint() - start) / 1000);
    }
    await p.close();
    await raw.close();
    ours.sort((a, b) => a - b);
    baseline.sort((a, b) => a - b);
    report("persistence.append.us", percentile(ours, 0.5), "us");
    report("persistence.append.p99.us", percentile(ours, 0.99), "us");
    report("persistence.append.raw_level_batch.us", percentile(baseline, 0.5), "us");
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
    fs.rmSync(rawDir, { recursive: true, force: true });
  }
}

async function concurrentFsync(report: Report): Promise<void> {
  const dir = tempDir();
  try {
    const p = await openPersistence({ dir, fsync: true });
    const change = { hash: HASH, bytes: SMALL_CHANGE };
    const writer = async (): Promise<void> => {
      for (let i = 0; i < APPENDS_PER_WRITER; i++) await p.appendChanges([change], [HASH]);
    };
    const start = process.hrtime.bigint();
    await Promise.all(Array.from({ length: WRITERS }, writer));
    const elapsedUs = Number(process.hrtime.bigint() - start) / 1000;
    const stats = p.stats();
    await p.close();
    const appends = WRITERS * APPENDS_PER_WRITER;
    report("persistence.append_fsync_16.us", elapsedUs / appends, "us");
    report("persistence.append_fsync_16.appends_per_sync", appends / stats.syncedBatches, "appends");
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** Baseline: one synced raw LevelDB write per append, one writer. */
async function rawFsync(report: Report): Promise<void> {
  const dir = tempDir();
  try {
    const db = new Level<string, Uint8Array>(dir, { keyEncoding: "utf8", valueEncoding: "view" });
    await db.open();
    const count = size(200);
    const start = process.hrtime.bigint();
    for (let i = 0; i < count; i++) {
      await db.put("c:" + String(i).padStart(16, "0"), SMALL_CHANGE, { sync: true });
    }
    const elapsedUs = Number(process.hrtime.bigint() - start) / 1000;
    await db.close();
    report("persistence.raw_level_fsync_write.us", elapsedUs / count, "us");
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

export async function run(report: Report): Promise<void> {
  await singleAppend(report);
  await rawFsync(report);
  await concurrentFsync(report);
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  await run((name, value, unit) => console.log(JSON.stringify({ name, value: Math.round(value * 100) / 100, unit })));
}
