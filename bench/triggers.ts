/**
 * Trigger and capability costs:
 * - capability.check.us: one scoped data.write check (module, facet and field patterns mixed);
 *   capability.check.set_has.us is a bare Set.has in the same run, for scale.
 * - capability.write_gate.us: the write gate's check of one operation's declared writes, over a
 *   mix of operations (a field write; a delete writing a facet, a table and an edge type).
 * - trigger.when_filtered.us: a watched change whose `when` is false (nothing starts).
 * - trigger.cycle_check.ms@1000: loading 1,000 triggers (parse, resolve, cycle check).
 * - trigger.latency.ms.p50 / .p99: the example show's cue_started, live: from a person's change of
 *   a cue's status being durable to log_cue_start.lua's autoCommit bundle being durable (real Lua,
 *   real runtime, real LevelDB store), one change at a time.
 * - trigger.fanout_<n>.s: one bundle setting n cues running, until all n autoCommit runs are durable.
 */
import { cpSync, mkdtempSync, rmSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { loadModules, loadShow, parseWorkspaceConfig } from "../daemon/config/index.ts";
import type { ChangeEvent } from "../daemon/crdt/change-feed.ts";
import { Schema } from "../daemon/crdt/schema.ts";
import type { Operation } from "../daemon/crdt/operations.ts";
import type { FieldDef } from "../daemon/crdt/schema.ts";
import { WorkspaceStore } from "../daemon/crdt/store.ts";
import { levelPersistence } from "../daemon/crdt/persistence/index.ts";
import { CapabilitySet, parseCapability, writeGate } from "../daemon/scripts/capabilities/index.ts";
import type { WriteTarget } from "../daemon/crdt/index.ts";
import { createLuaEngine } from "../daemon/scripts/engine/index.ts";
import { createScriptRuntime, showScripts } from "../daemon/scripts/runtime/index.ts";
import {
  TriggerDispatcher,
  createRuntimeTriggerRunner,
  createTriggerDispatcher,
  loadShowTriggers,
  loadTriggers,
  triggerSections,
} from "../daemon/triggers/index.ts";
import type { KnownScript } from "../daemon/triggers/index.ts";
import { size } from "./scale.ts";

type Report = (name: string, value: number, unit: string) => void;
const EXAMPLE_SHOW = path.resolve(import.meta.dirname, "../examples/show");

export async function run(report: Report): Promise<void> {
  benchCapabilities(report);
  await benchWriteGate(report);
  await benchWhenFiltered(report);
  benchCycleCheck(report);
  await benchLive(report);
}

function benchCapabilities(report: Report): void {
  const caps = new CapabilitySet(
    ["data.write:sm.*", "data.write:lighting.Cue", "data.write:lighting.fixture.channel", "ui.notify"].map(parseCapability),
  );
  const keys = ["lighting.cue.number", "lighting.fixture.channel", "lighting.fixture.notes", "sm.contact.name", "video.clip.name"];
  const n = size(2_000_000);
  let hits = 0;
  let t0 = performance.now();
  for (let i = 0; i < n; i++) if (caps.canWrite(keys[i % keys.length])) hits++;
  const check = ((performance.now() - t0) * 1000) / n;
  const set = new Set(keys.slice(0, 3));
  t0 = performance.now();
  for (let i = 0; i < n; i++) if (set.has(keys[i % keys.length])) hits++;
  const bare = ((performance.now() - t0) * 1000) / n;
  if (hits === 0) throw new Error("no capability check passed: the bench measured nothing");
  report("capability.check.us", check, "us");
  report("capability.check.set_has.us", bare, "us");
}

async function benchWriteGate(report: Report): Promise<void> {
  const { schema } = await loadModules(EXAMPLE_SHOW);
  const caps = new CapabilitySet(["data.write:lighting.*", "data.write:sm.contact.name"].map(parseCapability));
  const gate = writeGate(() => caps, schema, "bench");
  const ops: [Operation, WriteTarget[]][] = [
    [{ op: "SetField", id: "e1", field: "channel", value: 1 }, [{ kind: "field", key: "lighting.fixture.channel", entity: "e1" }]],
    [
      { op: "DeleteEntity", id: "e2" },
      [
        { kind: "facet", facet: "lighting.Cue", entity: "e2" },
        { kind: "table", table: "lighting_cues", entity: "e2" },
        { kind: "edge", type: "in_cue_list", entity: "e2" },
      ],
    ],
  ];
  const n = 1_000_000;
  const t0 = performance.now();
  for (let i = 0; i < n; i++) {
    const [op, writes] = ops[i & 1];
    gate(op, writes);
  }
  report("capability.write_gate.us", ((performance.now() - t0) * 1000) / n, "us");
}

async function benchWhenFiltered(report: Report): Promise<void> {
  const dir = mkdtempSync(path.join(tmpdir(), "openprod-bench-triggers-"));
  const { schema } = await loadModules(EXAMPLE_SHOW);
  const store = await WorkspaceStore.open({ persistence: levelPersistence({ dir }), schema, workspaceId: "ws-bench", peerId: "bench" });
  try {
    const config = parseWorkspaceConfig(
      "bench/openprod.toml",
      `[workspace]\nname = "b"\nid = "b"\n[script.log]\n[trigger.cue_started]\non_field_change = "lighting.cue.status"\nwhen = "new_value == 'running' and old_value != 'running'"\nrun_script = "log"\n`,
    );
    const { triggers } = loadTriggers(triggerSections(config.triggers, []), {
      schema,
      scripts: new Map([["log", { writes: new Set<string>() }]]),
    });
    let runs = 0;
    const d = new TriggerDispatcher({
      store,
      triggers,
      runner: { run: async () => ({ runId: `r${++runs}`, status: "ok" }) },
    });
    const event: ChangeEvent = {
      origin: "local",
      bundles: [{ hash: "b0", meta: { v: 1, hlc: "0", peer: "bench", actor: { kind: "user", name: "b" }, entities: ["e1"], ops: 1 } }],
      changes: [{ kind: "field", entity: "e1", field: "lighting.cue.status", oldValue: "standby", newValue: "stopped" }],
      heads: [],
      conflicts: { opened: [], closed: [] },
    };
    const n = size(300_000);
    const t0 = performance.now();
    for (let i = 0; i < n; i++) d.handle(event);
    report("trigger.when_filtered.us", ((performance.now() - t0) * 1000) / n, "us");
    if (runs !== 0 || d.traces("cue_started").length === 0) throw new Error("the filtered change started a run");
  } finally {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

function benchCycleCheck(report: Report): void {
  // 50 facets x 20 fields; 1,000 triggers on random fields; 200 scripts writing 5 random fields each.
  let seed = 42;
  const rand = (n: number) => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    return seed % n;
  };
  const facets = Array.from({ length: 50 }, (_, f) => {
    const fields: FieldDef[] = Array.from({ length: 20 }, (_, i) => ({
      module: "m",
      facet: `F${f}`,
      name: `x${i}`,
      type: "int",
      key: `m.f${f}.x${i}`,
      facetKey: `m.F${f}`,
    }));
    return { module: "m", name: `F${f}`, key: `m.F${f}`, fields };
  });
  const schema = new Schema({ facets, tables: [], edgeTypes: [] });
  const keys = [...schema.fields.keys()];
  const scripts = new Map<string, KnownScript>();
  for (let s = 0; s < 200; s++) scripts.set(`s${s}`, { writes: new Set(Array.from({ length: 5 }, () => keys[rand(keys.length)])) });
  let toml = `[workspace]\nname = "b"\nid = "b"\n`;
  for (let t = 0; t < 1000; t++) {
    toml += `[trigger.t${t}]\non_field_change = "${keys[rand(keys.length)]}"\nrun_script = "s${rand(200)}"\n`;
  }
  const t0 = performance.now();
  const config = parseWorkspaceConfig("bench/openprod.toml", toml);
  const loaded = loadTriggers(triggerSections(config.triggers, []), { schema, scripts });
  const ms = performance.now() - t0;
  if (loaded.triggers.length + loaded.rejected.length !== 1000) throw new Error("not every trigger was loaded or rejected");
  report("trigger.cycle_check.ms@1000", ms, "ms");
  report("trigger.cycle_check.rejected@1000", loaded.rejected.length, "triggers");
}

const USER = { actor: { kind: "user" as const, name: "bench" } };
const LATENCY_SAMPLES = size(200);
const FANOUT = size(10_000);

/** The example show running for real: its triggers, its Lua scripts, the runtime, a LevelDB store. */
async function benchLive(report: Report): Promise<void> {
  const root = mkdtempSync(path.join(tmpdir(), "openprod-bench-triggers-live-"));
  cpSync(EXAMPLE_SHOW, root, { recursive: true, filter: (src) => !src.includes(`${path.sep}.openprod`) });
  const show = await loadShow(root);
  const loaded = loadShowTriggers(show);
  if (loaded.errors.length > 0 || loaded.rejected.length > 0) throw new Error(`the example show's triggers did not load: ${loaded.errors[0]?.message}`);
  const store = await WorkspaceStore.open({ persistence: levelPersistence({ dir: path.join(root, ".openprod", "store") }), schema: show.schema, workspaceId: "ws-bench", peerId: "bench" });
  const engine = createLuaEngine({ maxWorkers: 2, warmWorkers: 2 });
  const runtime = createScriptRuntime({
    store,
    engine,
    // As the daemon builds it: its show watcher reports every edit, so the catalog keeps sources.
    scripts: showScripts({ root, config: show.config, modules: show.modules, readFile: (f) => readFile(f, "utf8"), watched: true }),
    events: { emit: () => undefined },
    dialogs: { ask: async () => null },
    capabilities: (s) => loaded.capabilities.get(s.id) ?? CapabilitySet.none,
  });
  const failures: string[] = [];
  const dispatcher = createTriggerDispatcher({
    store,
    triggers: loaded.triggers,
    runner: createRuntimeTriggerRunner(runtime),
    events: (e) => void failures.push(e.type === "trigger.run_failed" ? e.error.message : e.message),
    // The 10k runs of the fan-out share the person's edit's chain and wait in the queue far longer
    // than the 30 s chain age limit, which would stop the later ones as a "runaway loop".
    maxChainAgeMs: Number.POSITIVE_INFINITY,
  });
  // Durable moments as the change feed reports them (it publishes a bundle once it is persisted).
  const changedAt = new Map<string, number>();
  const stampedAt = new Map<string, number>();
  const unsubscribe = store.onChange((e) => {
    const now = performance.now();
    for (const c of e.changes) {
      if (c.kind !== "field") continue;
      if (c.field === "lighting.cue.status") changedAt.set(c.entity, now);
      else if (c.field === "lighting.cue.fired_at") stampedAt.set(c.entity, now);
    }
  });
  try {
    // Cues made with the triggers paused: creating cues would otherwise fire renumber_on_reorder.
    dispatcher.stop();
    const cues = async (n: number): Promise<string[]> => {
      const ids = Array.from({ length: n }, () => store.newEntityId());
      for (let i = 0; i < n; i += 1000) {
        const ops: Operation[] = ids.slice(i, i + 1000).map((id, j) => ({
          op: "CreateEntity",
          id,
          tables: ["lighting_cues"],
          fields: { number: i + j + 1, order_index: i + j + 1, status: "standby" },
        }));
        await store.apply(ops, USER);
      }
      return ids;
    };
    const one = await cues(LATENCY_SAMPLES + 20);
    const many = await cues(FANOUT);
    dispatcher.start();

    const latencies: number[] = [];
    for (const [i, id] of one.entries()) {
      await store.apply([{ op: "SetField", id, field: "status", value: "running" }], USER);
      await dispatcher.idle();
      const t0 = changedAt.get(id);
      const t1 = stampedAt.get(id);
      if (t0 === undefined || t1 === undefined) throw new Error(`cue ${id} was not stamped: ${failures[0] ?? "no failure reported"}`);
      if (i >= 20) latencies.push(t1 - t0); // the first runs warm the workers up
    }
    latencies.sort((a, b) => a - b);
    report("trigger.latency.ms.p50", latencies[Math.floor(latencies.length * 0.5)], "ms");
    report("trigger.latency.ms.p99", latencies[Math.floor(latencies.length * 0.99)], "ms");

    const t0 = performance.now();
    await store.apply(many.map((id): Operation => ({ op: "SetField", id, field: "status", value: "running" })), USER);
    await dispatcher.idle();
    const seconds = (performance.now() - t0) / 1000;
    const stamped = many.filter((id) => stampedAt.has(id)).length;
    if (stamped !== FANOUT) throw new Error(`only ${stamped} of ${FANOUT} cues were stamped: ${failures[0] ?? "no failure reported"}`);
    // Named for the full size; the smoke run fans out to fewer cues under the same name.
    report("trigger.fanout_10k.s", seconds, "s");
  } finally {
    unsubscribe();
    dispatcher.stop();
    await dispatcher.idle();
    await store.close();
    await engine.close();
    rmSync(root, { recursive: true, force: true });
  }
}
