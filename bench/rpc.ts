/**
 * Socket and CLI latency against a real daemon (in-process, no networking):
 * status round trip, bundle events delivered to a subscriber (small
 * workspace), `openprod status --json` as a whole process (built CLI), and
 * last an indexed equality query once the workspace holds 100k entities.
 */
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { startDaemon } from "../daemon/main.ts";
import { buildCli } from "../daemon/cli/build.ts";
import { connect } from "../protocol/index.ts";
import type { Operation } from "../daemon/crdt/index.ts";
import { size } from "./scale.ts";

const ROOT = path.dirname(path.dirname(fileURLToPath(import.meta.url)));

function p50(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

export async function run(report: (name: string, value: number, unit: string) => void): Promise<void> {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "op-bench-rpc-"));
  // Inside node_modules so the built CLI's package imports resolve; .cache is not there on a fresh clone.
  const cache = path.join(ROOT, "node_modules", ".cache");
  fs.mkdirSync(cache, { recursive: true });
  const dist = fs.mkdtempSync(path.join(cache, "openprod-cli-bench-"));
  const daemon = await startDaemon({ showDir: (fs.cpSync(path.join(ROOT, "examples", "show"), tmp, { recursive: true }), tmp), network: false, console: null, banner: null });
  const client = await connect(tmp, { name: "bench" });
  try {
    const status: number[] = [];
    for (let i = 0; i < size(300); i++) {
      const t = process.hrtime.bigint();
      await client.request("status");
      status.push(Number(process.hrtime.bigint() - t) / 1000);
    }
    report("rpc.status.us.p50", p50(status), "us");

    const watcher = await connect(tmp);
    let seen = 0;
    const EVENTS = size(1_000);
    const done = new Promise<void>((resolve) => {
      void watcher.subscribe(() => {
        if (++seen === EVENTS) resolve();
      }, ["bundle"]);
    });
    await new Promise((r) => setTimeout(r, 50));
    const ids: string[] = [];
    for (let i = 0; i < 50; i++) ids.push((await client.request("entity.create", { tables: ["lighting_fixtures"], fields: { channel: i } })).id);
    const t0 = process.hrtime.bigint();
    const writes: Promise<unknown>[] = [];
    for (let i = 0; i < EVENTS; i++) writes.push(client.request("entity.set", { id: ids[i % ids.length], field: "intensity", value: i }));
    await Promise.all(writes);
    await done;
    report("rpc.events_per_s", EVENTS / (Number(process.hrtime.bigint() - t0) / 1e9), "events/s");
    watcher.close();

    await buildCli(dist);
    const env = { ...process.env, OPENPROD_CLI_DIST: dist };
    const cold: number[] = [];
    for (let i = 0; i < size(7); i++) {
      const t = process.hrtime.bigint();
      // Asynchronous: the daemon runs in this process and must keep answering.
      await promisify(execFile)(process.execPath, [path.join(ROOT, "bin", "openprod.js"), "status", "--json", "--dir", tmp], { env });
      cold.push(Number(process.hrtime.bigint() - t) / 1e6);
    }
    report("cli.cold.ms", p50(cold), "ms");
    const N = size(100_000);
    const BATCH = Math.min(5_000, N);
    for (let i = 0; i < N; i += BATCH) {
      const ops: Operation[] = [];
      for (let j = i; j < i + BATCH; j++) ops.push({ op: "CreateEntity", tables: ["lighting_fixtures"], fields: { unit_number: `U${j}`, channel: j } });
      await client.request("apply", { ops });
    }
    const query: number[] = [];
    for (let i = 0; i < size(200); i++) {
      const t = process.hrtime.bigint();
      const r = await client.request("query", { expr: "table == 'lighting_fixtures' AND unit_number == ?", params: [`U${(i * 487) % N}`] });
      query.push(Number(process.hrtime.bigint() - t) / 1000);
      if (r.count !== 1) throw new Error(`query found ${r.count} entities, expected 1`);
    }
    report("rpc.query_eq.us.p50", p50(query), "us");

  } finally {
    client.close();
    await daemon.stop();
    fs.rmSync(tmp, { recursive: true, force: true });
    fs.rmSync(dist, { recursive: true, force: true });
  }
}
