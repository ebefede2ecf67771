import { spawn } from "node:child_process";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { inspectStorage } from "../daemon/crdt/persistence/index.ts";
import type { WorkspaceStore } from "../daemon/crdt/store.ts";
import { openTestStore, tempDir } from "./helpers/store-fixture.ts";
import { seededRandom } from "./fixtures/store-seeded.ts";

const WRITER = path.join(import.meta.dirname, "fixtures", "store-writer.ts");
const KILLS = 20;
const SEED = 7_310_2024;

let tmp: { dir: string; cleanup: () => void };
beforeAll(() => {
  tmp = tempDir("openprod-store-crash-");
});
afterAll(() => {
  tmp.cleanup();
});

/** Every acknowledged bundle is in the reopened store, and no multi-op bundle is there in part. */
async function checkReopened(acked: Ack[], context: string): Promise<number> {
  const store = await openTestStore(tmp.dir, { peerId: "checker" });
  try {
    const missing = acked.filter((a) => !store.hasHeads([a.hash]));
    expect(missing, `${context}: acknowledged bundles missing after SIGKILL`).toEqual([]);
    expect(partialBundles(store), context).toEqual([]);
    return store.queryIds("table == 'lighting_fixtures'").length - 1;
  } finally {
    await store.close();
  }
}

interface Ack {
  hash: string;
  tag: string;
}

/**
 * Runs the writer and SIGKILLs it `delayMs` after its first acknowledged
 * bundle (or, with `fromSpawn`, after it starts opening the store: then it
 * may die while loading and recovering it). Returns every bundle it acknowledged.
 */
function runAndKill(
  round: number,
  fsync: boolean,
  delayMs: number,
  fromSpawn: boolean,
  background = false,
): Promise<{ acks: Ack[]; compactions: number; stderr: string }> {
  const args = [WRITER, tmp.dir, String(SEED + round), fsync ? "1" : "0", String(round), ...(background ? ["background"] : [])];
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["--import", "tsx", ...args], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    const acks: Ack[] = [];
    let compactions = 0;
    let pending = "";
    let stderr = "";
    let timer: NodeJS.Timeout | undefined;
    const guard = setTimeout(() => child.kill("SIGKILL"), 20_000);
    child.stdout.setEncoding("utf8");
    child.stdout.on("data", (chunk: string) => {
      pending += chunk;
      const lines = pending.split("\n");
      pending = lines.pop() ?? "";
      for (const line of lines) {
        const m = /^ack ([0-9a-f]{64}) (\S+)$/.exec(line);
        if (m) acks.push({ hash: m[1], tag: m[2] });
        else if (line === "compacted") compactions++;
        else if (line === "opening" && fromSpawn) timer = setTimeout(() => child.kill("SIGKILL"), delayMs);
      }
      if (acks.length > 0 && timer === undefined) timer = setTimeout(() => child.kill("SIGKILL"), delayMs);
    });
    child.stderr.setEncoding("utf8");
    child.stderr.on("data", (chunk: string) => (stderr += chunk));
    child.on("error", reject);
    child.on("close", (_code, signal) => {
      clearTimeout(guard);
      if (timer !== undefined) clearTimeout(timer);
      if (signal !== "SIGKILL") reject(new Error(`writer exited by itself (signal ${signal}): ${stderr}`));
      else resolve({ acks, compactions, stderr });
    });
  });
}

/** Multi-op bundles are all there or not at all: an entity, three fields, a text edit and an edge. */
function partialBundles(store: WorkspaceStore): string[] {
  const problems: string[] = [];
  for (const e of store.query("table == 'lighting_fixtures'")) {
    const unit = e.fields["lighting.fixture.unit_number"];
    if (typeof unit !== "string" || !unit.startsWith("M")) continue;
    const tag = unit.slice(1);
    const ok =
      typeof e.fields["lighting.fixture.channel"] === "number" &&
      e.fields["lighting.fixture.position"] === `P${tag}` &&
      e.fields["lighting.fixture.notes"] === `note ${tag}` &&
      store.edgesOf(e.id, { type: "mounted_at", direction: "out" }).length === 1;
    if (!ok) problems.push(`${unit}: ${JSON.stringify(e.fields)}`);
  }
  return problems;
}

describe("a store killed at any moment reopens with every acknowledged bundle and no partial one", () => {
  it(`survives ${KILLS} SIGKILLs during bundles and compactions`, async () => {
    const random = seededRandom(SEED);
    const acked: Ack[] = [];
    let multis = 0;
    let compactions = 0;
    for (let round = 0; round < KILLS; round++) {
      const fsync = round % 4 === 3;
      const fromSpawn = round % 6 === 5;
      const delay = fromSpawn ? Math.floor(random() * 300) : Math.floor(random() * 200);
      const started = Date.now();
      const run = await runAndKill(round, fsync, delay, fromSpawn);
      if (process.env.STORE_CRASH_TRACE) process.stderr.write(`round ${round}: ${run.acks.length} acks in ${Date.now() - started} ms\n`);
      const { acks, stderr } = run;
      compactions += run.compactions;
      expect(stderr, `round ${round}`).toBe("");
      acked.push(...acks);
      multis = await checkReopened(acked, `round ${round}`);
    }
    // Every round but those killed while opening acknowledged at least one bundle before its SIGKILL.
    expect(acked.length).toBeGreaterThanOrEqual(KILLS - Math.ceil(KILLS / 6));
    expect(multis).toBeGreaterThan(0);
    expect(compactions).toBeGreaterThan(0);
    expect(acked.filter((a) => a.tag.startsWith("multi:")).length).toBeLessThanOrEqual(multis);
  }, 150_000);
});

describe("a store killed while it compacts in the background loses no acknowledged bundle", () => {
  it("survives SIGKILLs while its own compactions save, install and delete the records they replace", async () => {
    const random = seededRandom(SEED + 1);
    const acked: Ack[] = [];
    const savedUpto: number[] = [];
    const ROUNDS = 6;
    for (let round = 0; round < ROUNDS; round++) {
      // Later than the explicit-compaction test: the replica's thread takes a second or so to start.
      const delay = 1500 + Math.floor(random() * 2500);
      const { acks, stderr } = await runAndKill(100 + round, round % 4 === 3, delay, false, true);
      expect(stderr, `background round ${round}`).toBe("");
      acked.push(...acks);
      savedUpto.push((await inspectStorage(tmp.dir)).snapshot?.uptoSeq ?? 0);
      await checkReopened(acked, `background round ${round}`);
    }
    expect(acked.length).toBeGreaterThan(ROUNDS);
    // The store's own compactions installed saves between kills, or the test proves less than it says.
    expect(new Set(savedUpto.filter((s) => s > 0)).size).toBeGreaterThan(1);
  }, 120_000);
});
