import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { WorkspaceStore } from "../daemon/crdt/store.ts";
import { createTriggerDispatcher } from "../daemon/triggers/index.ts";
import type { TriggerDispatcher, TriggerEvent } from "../daemon/triggers/index.ts";
import { SPEC_SCRIPTS, SPEC_TRIGGERS, StoreRunner, USER, logCueStart, renumberCues, sceneWithCues, triggersFrom } from "./fixtures/triggers-kit/kit.ts";
import type { FakeScript } from "./fixtures/triggers-kit/kit.ts";
import { exampleSchema, openTestStore, syncStores, tempDir } from "./helpers/store-fixture.ts";

const SPEC = SPEC_SCRIPTS + SPEC_TRIGGERS;

let tmp: { dir: string; cleanup: () => void };
let store: WorkspaceStore;
let dispatcher: TriggerDispatcher | null;

beforeEach(async () => {
  tmp = tempDir("openprod-triggers-");
  store = await openTestStore(tmp.dir);
  dispatcher = null;
});
afterEach(async () => {
  dispatcher?.stop();
  await dispatcher?.idle();
  await store.close();
  tmp.cleanup();
});

async function start(toml: string, scripts: Record<string, FakeScript>, extra: Partial<Parameters<typeof createTriggerDispatcher>[0]> = {}) {
  const { triggers, rejected } = triggersFrom(toml, await exampleSchema());
  expect(rejected).toEqual([]);
  const runner = new StoreRunner(store, scripts);
  dispatcher = createTriggerDispatcher({ store, triggers, runner, ...extra });
  return { runner, dispatcher };
}

const setField = (id: string, field: string, value: string | number) => store.apply([{ op: "SetField", id, field, value }], USER);
const numbers = (ids: string[]) => ids.map((id) => store.getField(id, "number"));

describe("renumber_on_reorder: moving a cue renumbers its scene", () => {
  it("follows the scene edge, passes the scene as scene_id, and the run's bundle carries the chain", async () => {
    const { runner, dispatcher: d } = await start(SPEC, { renumber_cues: renumberCues, log_cue_start: logCueStart });
    const { scene, cues } = await sceneWithCues(store, 3);
    await d.idle();
    expect(numbers(cues)).toEqual([1, 2, 3]);
    const before = runner.started.length;

    await setField(cues[2], "order_index", 0.5);
    await d.idle();
    expect(numbers(cues)).toEqual([2, 3, 1]);
    expect(runner.started.length).toBe(before + 1);
    const req = runner.started[runner.started.length - 1];
    expect(req).toMatchObject({
      trigger: "renumber_on_reorder",
      script: "renumber_cues",
      mode: "session",
      args: { scene_id: scene },
      context: { trigger_entity: cues[2], trigger_field: "lighting.cue.order_index", old_value: 3, new_value: 0.5 },
    });
    expect(req.chain.depth).toBe(0);

    const trace = d.traces("renumber_on_reorder").at(-1);
    expect(trace).toMatchObject({ status: "ok", entity: cues[2], oldValue: 3, newValue: 0.5, scope: { edgeType: "scene", entity: scene }, args: { scene_id: scene } });
    expect(trace?.runId).toMatch(/^run-/);
    const [last] = await store.history({ limit: 1 });
    expect(last.meta.origin?.chain).toEqual({ ...req.chain, depth: 1 });
    // The script writes only numbers: it does not fire itself again.
    expect(d.traces("renumber_on_reorder").every((t) => t.entity !== last.hash)).toBe(true);
  });

  it("a cue with no scene edge fires nothing, and the trace says why", async () => {
    const { runner, dispatcher: d } = await start(SPEC, { renumber_cues: renumberCues, log_cue_start: logCueStart });
    const r = await store.apply([{ op: "CreateEntity", tables: ["lighting_cues"], fields: { order_index: 1 } }], USER);
    await d.idle();
    expect(runner.started).toEqual([]);
    const [trace] = d.traces("renumber_on_reorder");
    expect(trace).toMatchObject({ status: "no_scope", entity: r.results[0]?.id, scope: { edgeType: "scene", entity: null } });
    expect(trace.reason).toContain('has no "scene" edge');
  });
});

describe("cue_started: a cue that starts running is stamped; stopping it runs nothing", () => {
  it("runs only when new_value == 'running'", async () => {
    const { runner, dispatcher: d } = await start(SPEC, { renumber_cues: renumberCues, log_cue_start: logCueStart });
    const { cues } = await sceneWithCues(store, 1);
    await d.idle();
    const before = runner.started.length;
    await setField(cues[0], "status", "running");
    await d.idle();
    expect(runner.started.length).toBe(before + 1);
    expect(runner.started.at(-1)).toMatchObject({ trigger: "cue_started", mode: "autoCommit", context: { new_value: "running" } });
    expect(typeof store.getField(cues[0], "fired_at")).toBe("string");

    await setField(cues[0], "status", "stopped");
    await d.idle();
    expect(runner.started.length).toBe(before + 1);
    const traces = d.traces("cue_started");
    expect(traces.at(-1)).toMatchObject({ status: "filtered", condition: false, oldValue: "running", newValue: "stopped", runId: null });
    expect(traces.at(-2)).toMatchObject({ status: "ok", condition: true });
  });
});

describe("changes merged from peers fire only triggers that opt in with remote = true", () => {
  it("the peer that made the change runs local triggers; the other runs only remote ones", async () => {
    const other = tempDir("openprod-triggers-b-");
    const b = await openTestStore(other.dir, { peerId: "peer-b" });
    try {
      const toml = `${SPEC}
[trigger.cue_started_anywhere]
on_field_change = "lighting.cue.status"
when = "new_value == 'running'"
run_script = "log_cue_start"
remote = true
`;
      const schema = await exampleSchema();
      const { triggers } = triggersFrom(toml, schema);
      const runnerB = new StoreRunner(b, { renumber_cues: renumberCues, log_cue_start: logCueStart });
      const dB = createTriggerDispatcher({ store: b, triggers, runner: runnerB });
      const { cues } = await sceneWithCues(store, 1);
      await syncStores(store, b);
      await dB.idle();
      const before = runnerB.started.length;
      await setField(cues[0], "status", "running");
      await syncStores(store, b);
      await dB.idle();
      expect(runnerB.started.slice(before).map((r) => r.trigger)).toEqual(["cue_started_anywhere"]);
      expect(dB.traces("cue_started")).toEqual([]);
      expect(dB.traces("cue_started_anywhere").at(-1)).toMatchObject({ origin: "remote", status: "ok" });
      dB.stop();
    } finally {
      await b.close();
      other.cleanup();
    }
  });
});

describe("uncommitted session changes fire nothing; committing them fires once", () => {
  it("only the commit's change event fires the trigger", async () => {
    const { runner, dispatcher: d } = await start(SPEC, { renumber_cues: renumberCues, log_cue_start: logCueStart });
    const { cues } = await sceneWithCues(store, 1);
    await d.idle();
    const before = runner.started.length;
    // A session holds its ops in an overlay, outside the store: the workspace has not changed.
    const overlay = [{ op: "SetField" as const, id: cues[0], field: "status", value: "running" }];
    await d.idle();
    expect(runner.started.length).toBe(before);
    const tracesBefore = d.traces("cue_started").length;
    const commit = await store.apply(overlay, { actor: { kind: "user", name: "sm" } });
    await d.idle();
    expect(runner.started.length).toBe(before + 1);
    expect(d.traces("cue_started").length).toBe(tracesBefore + 1);
    expect(d.traces("cue_started").at(-1)).toMatchObject({ status: "ok", bundle: commit.hash, newValue: "running" });
  });
});

describe("a bulk change queues its runs with bounded concurrency in a deterministic order", () => {
  it("10,000 changed cues: at most 4 runs at once, started in entity id order", async () => {
    const tick: FakeScript = () => new Promise((r) => setImmediate(r));
    const { runner, dispatcher: d } = await start(
      `[script.tick]\n[trigger.on_label]\non_field_change = "lighting.cue.label"\nrun_script = "tick"\n`,
      { tick },
    );
    const ids = Array.from({ length: 10_000 }, () => store.newEntityId());
    // Created in reverse id order so that the run order is not just the order of the ops.
    await store.apply(ids.slice().reverse().map((id) => ({ op: "CreateEntity", id, tables: ["lighting_cues"], fields: { label: "x" } })), USER);
    await d.idle();
    expect(runner.started).toHaveLength(10_000);
    expect(runner.started.map((r) => r.context.trigger_entity)).toEqual(ids.slice().sort());
    expect(runner.maxActive).toBe(4);
    const traces = d.traces("on_label");
    expect(traces).toHaveLength(50);
    expect(traces.every((t) => t.status === "ok")).toBe(true);
    expect(d.list()[0]).toMatchObject({ name: "on_label", fired: 10_000, pending: 0 });
  }, 60_000);
});

describe("concurrency decides what a firing does while the entity's previous run is going", () => {
  /** A script that runs until released; aborted, it ends with an error once released (a slow stop). */
  function held() {
    const gates: (() => void)[] = [];
    const aborted: unknown[] = [];
    const script: FakeScript = ({ signal, req }) => {
      signal.addEventListener("abort", () => aborted.push(req.context.new_value));
      return new Promise<void>((resolve) => gates.push(resolve)).then(() => {
        if (signal.aborted) throw new Error("aborted");
      });
    };
    return { gates, aborted, script };
  }
  async function fireThree(mode: string) {
    const h = held();
    const { runner, dispatcher: d } = await start(
      `[script.hold]\n[trigger.t]\non_field_change = "lighting.cue.label"\nrun_script = "hold"\nconcurrency = "${mode}"\n`,
      { hold: h.script },
    );
    const r = await store.apply([{ op: "CreateEntity", tables: ["scenes"], fields: { name: "x" } }], USER);
    const cue = (await store.apply([{ op: "CreateEntity", tables: ["lighting_cues"], fields: { number: 1 } }], USER)).results[0]?.id as string;
    expect(r.hash).not.toBeNull();
    for (const label of ["a", "b", "c"]) await setField(cue, "label", label);
    await new Promise((res) => setImmediate(res));
    return { h, runner, d };
  }
  const release = async (h: { gates: (() => void)[] }, d: TriggerDispatcher) => {
    for (let i = 0; i < 10 && h.gates.length > 0; i++) {
      h.gates.splice(0).forEach((g) => g());
      await new Promise((res) => setImmediate(res));
    }
    await d.idle();
  };
  const statuses = (d: TriggerDispatcher) => d.traces("t").map((t) => `${String(t.newValue)}:${t.status}`);

  it("queued (the default): one at a time, each in turn", async () => {
    const { h, runner, d } = await fireThree("queued");
    expect(runner.active).toBe(1);
    await release(h, d);
    expect(runner.started.map((r) => r.context.new_value)).toEqual(["a", "b", "c"]);
    expect(statuses(d)).toEqual(["a:ok", "b:ok", "c:ok"]);
  });

  it("single: later firings are skipped while one runs", async () => {
    const { h, d } = await fireThree("single");
    await release(h, d);
    expect(statuses(d)).toEqual(["a:ok", "b:skipped", "c:skipped"]);
  });

  it("restart: the running one is cancelled through its AbortSignal, a waiting one is superseded", async () => {
    const { h, runner, d } = await fireThree("restart");
    await release(h, d);
    expect(h.aborted).toEqual(["a"]);
    expect(runner.started.map((r) => r.context.new_value)).toEqual(["a", "c"]);
    expect(statuses(d)).toEqual(["a:cancelled", "b:superseded", "c:ok"]);
  });

  it("parallel: all run at once", async () => {
    const { h, runner, d } = await fireThree("parallel");
    expect(runner.active).toBe(3);
    await release(h, d);
    expect(statuses(d)).toEqual(["a:ok", "b:ok", "c:ok"]);
  });
});

describe("the runtime safety net stops runaway chains", () => {
  const CASCADE = `
[script.start_to_label]
capabilities = ["data.write:lighting.cue.label"]
[script.label_to_stamp]
capabilities = ["data.write:lighting.cue.fired_at"]
[trigger.on_status]
on_field_change = "lighting.cue.status"
run_script = "start_to_label"
[trigger.on_label]
on_field_change = "lighting.cue.label"
run_script = "label_to_stamp"
`;
  let clock = 1_000_000;
  const scripts: Record<string, FakeScript> = {
    start_to_label: async ({ req, apply }) => apply([{ op: "SetField", id: req.context.trigger_entity, field: "label", value: "GO" }]),
    label_to_stamp: async ({ req, apply }) => apply([{ op: "SetField", id: req.context.trigger_entity, field: "fired_at", value: "now" }]),
  };

  it("a chain already at the depth limit starts no further run, with a trace and a notification", async () => {
    const events: TriggerEvent[] = [];
    const { runner, dispatcher: d } = await start(CASCADE, scripts, { maxChainDepth: 1, events: (e) => events.push(e) });
    const cue = (await store.apply([{ op: "CreateEntity", tables: ["lighting_cues"], fields: {} }], USER)).results[0]?.id as string;
    await setField(cue, "status", "running");
    await d.idle();
    expect(runner.started.map((r) => `${r.trigger}@${r.chain.depth}`)).toEqual(["on_status@0"]);
    const [stopped] = d.traces("on_label");
    expect(stopped).toMatchObject({ status: "stopped", chain: { depth: 1 }, error: { type: "Timeout" } });
    expect(stopped.reason).toContain("already ran 1 trigger runs (limit 1)");
    expect(events).toEqual([expect.objectContaining({ type: "trigger.chain_stopped", trigger: "on_label", reason: "depth", entity: cue })]);
    expect(store.getField(cue, "fired_at")).toBeNull();
  });

  it("a chain older than the age limit stops, measured from the original change", async () => {
    const events: TriggerEvent[] = [];
    const slow: Record<string, FakeScript> = {
      ...scripts,
      start_to_label: async (run) => {
        clock += 31_000; // the first run took 31 s
        await scripts.start_to_label(run);
      },
    };
    const { runner, dispatcher: d } = await start(CASCADE, slow, { now: () => clock, events: (e) => events.push(e) });
    const cue = (await store.apply([{ op: "CreateEntity", tables: ["lighting_cues"], fields: {} }], USER)).results[0]?.id as string;
    await setField(cue, "status", "running");
    await d.idle();
    expect(runner.started.map((r) => r.trigger)).toEqual(["on_status"]);
    expect(d.traces("on_label")[0]).toMatchObject({ status: "stopped" });
    expect(events[0]).toMatchObject({ type: "trigger.chain_stopped", reason: "age" });
    expect((events[0] as { message: string }).message).toMatch(/started 31000 ms ago \(limit 30000 ms\)/);
  });

  it("within the limits the chain runs through, one level deeper per run", async () => {
    const { runner, dispatcher: d } = await start(CASCADE, scripts);
    const cue = (await store.apply([{ op: "CreateEntity", tables: ["lighting_cues"], fields: {} }], USER)).results[0]?.id as string;
    await setField(cue, "status", "running");
    await d.idle();
    expect(runner.started.map((r) => `${r.trigger}@${r.chain.depth}`)).toEqual(["on_status@0", "on_label@1"]);
    expect(new Set(runner.started.map((r) => r.chain.id)).size).toBe(1);
    expect(store.getField(cue, "fired_at")).toBe("now");
  });
});

describe("traces keep the last failures even after a flood of successes", () => {
  it("max_traces per kind: successes, failures and firings that ran nothing", async () => {
    const events: TriggerEvent[] = [];
    const check: FakeScript = async ({ req }) => {
      if (req.context.new_value === "bad") throw Object.assign(new Error("label must not be bad"), { code: "InvalidOperation" });
    };
    const { dispatcher: d } = await start(
      `[script.check]\n[trigger.t]\non_field_change = "lighting.cue.label"\nwhen = "new_value != 'skip'"\nrun_script = "check"\nmax_traces = 3\n`,
      { check },
      { events: (e) => events.push(e) },
    );
    const cue = (await store.apply([{ op: "CreateEntity", tables: ["lighting_cues"], fields: {} }], USER)).results[0]?.id as string;
    await setField(cue, "label", "bad");
    await setField(cue, "label", "skip");
    for (let i = 0; i < 10; i++) await setField(cue, "label", `ok${i}`);
    await d.idle();
    const kept = d.traces("t").map((t) => `${String(t.newValue)}:${t.status}`);
    expect(kept).toEqual(["bad:failed", "skip:filtered", "ok7:ok", "ok8:ok", "ok9:ok"]);
    expect(d.traces("t")[0].error).toEqual({ type: "InvalidOperation", message: "label must not be bad" });
    expect(events).toEqual([expect.objectContaining({ type: "trigger.run_failed", trigger: "t", entity: cue })]);
  });
});

describe("a trigger's params are filled in when it fires, from the change and the entity that changed", () => {
  it("$old_value, $new_value, $source and $source.<field> reach the run as the values at dispatch time", async () => {
    const toml = `${SPEC_SCRIPTS}
[trigger.label_on_status]
on_field_change = "lighting.cue.status"
run_script = "log_cue_start"
mode = "autoCommit"
params = { who = "$source", label = "$source.label", before = "$old_value", after = "$new_value", tag = "$$literal", n = 3 }
`;
    const { runner, dispatcher: d } = await start(toml, { log_cue_start: logCueStart });
    const made = await store.apply([{ op: "CreateEntity", tables: ["lighting_cues"], fields: { number: 7, status: "standby", label: "Preset" } }], USER);
    const cue = made.results[0]?.id as string;
    await d.idle();
    const before = runner.started.length;
    // The label changes in the same bundle as the status: $source.<field> is read when the trigger fires.
    await store.apply(
      [
        { op: "SetField", id: cue, field: "label", value: "GO" },
        { op: "SetField", id: cue, field: "status", value: "running" },
      ],
      USER,
    );
    await d.idle();
    expect(runner.started.length).toBe(before + 1);
    const req = runner.started[runner.started.length - 1];
    expect(req.args).toEqual({ who: cue, label: "GO", before: "standby", after: "running", tag: "$literal", n: 3 });
    expect(req.context).toMatchObject({ trigger_entity: cue, trigger_field: "lighting.cue.status", old_value: "standby", new_value: "running" });
  });
});
