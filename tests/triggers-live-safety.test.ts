// The runtime safety net and the traces with real Lua runs: a legitimate cascade deeper than the
// configured limit is stopped with a clear error, failed runs are traced with the run's own error,
// and a trigger with concurrency = "restart" cancels the run it replaces.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createLuaEngine } from "../daemon/scripts/engine/index.ts";
import type { LuaEngine } from "../daemon/scripts/engine/index.ts";
import { USER, openLiveShow } from "./fixtures/triggers-live/kit.ts";
import type { LiveShow } from "./fixtures/triggers-live/kit.ts";

// channel -> a writes dimmer -> b writes fixture_type -> c writes position -> d writes intensity:
// four links, no cycle, so the config check lets every one load.
const CASCADE = `
[script.chain_a]
execution_mode = "autoCommit"
capabilities = ["data.write:lighting.fixture.dimmer"]
[script.chain_b]
execution_mode = "autoCommit"
capabilities = ["data.write:lighting.fixture.fixture_type"]
[script.chain_c]
execution_mode = "autoCommit"
capabilities = ["data.write:lighting.fixture.position"]
[script.chain_d]
execution_mode = "autoCommit"
capabilities = ["data.write:lighting.fixture.intensity"]
[script.check_unit]
execution_mode = "autoCommit"
capabilities = []

[trigger.a]
on_field_change = "lighting.fixture.channel"
run_script = "chain_a"
[trigger.b]
on_field_change = "lighting.fixture.dimmer"
run_script = "chain_b"
[trigger.c]
on_field_change = "lighting.fixture.fixture_type"
run_script = "chain_c"
[trigger.d]
on_field_change = "lighting.fixture.position"
run_script = "chain_d"
[trigger.unit_checked]
on_field_change = "lighting.fixture.unit_number"
run_script = "check_unit"
params = { unit = "$new_value" }
`;

const link = (field: string, value: string) => `
function main()
    core.set_field(context.trigger_entity(), "${field}", ${value})
end
`;

const SCRIPTS = {
  chain_a: link("dimmer", `"D" .. tostring(context.new_value())`),
  chain_b: link("fixture_type", `"Source 4"`),
  chain_c: link("position", `"FOH"`),
  chain_d: link("intensity", "0.5"),
  check_unit: `
function main()
    if not string.match(args.unit, "^%u%d+$") then
        error("unit number " .. args.unit .. " is not like A12")
    end
end
`,
};

const RESTART = `
[script.slow_refresh]
execution_mode = "autoCommit"
capabilities = ["data.write:lighting.fixture.dimmer"]

[trigger.refresh_on_unit]
on_field_change = "lighting.fixture.unit_number"
run_script = "slow_refresh"
params = { unit = "$new_value" }
concurrency = "restart"
`;

const SLOW_REFRESH = `
-- Takes a while; gives up as soon as a newer firing replaces it.
function main()
    for _ = 1, 40 do
        if context.cancelled() then return end
        core.await(core.sleep(10))
    end
    if context.cancelled() then return end
    core.set_field(context.trigger_entity(), "dimmer", "refreshed " .. args.unit)
end
`;

let engine: LuaEngine;
let live: LiveShow;
beforeAll(async () => {
  engine = createLuaEngine({ maxWorkers: 2, warmWorkers: 1 });
  live = await openLiveShow({ toml: CASCADE, scripts: SCRIPTS, dispatcher: { maxChainDepth: 3 }, engine });
});
afterAll(async () => {
  await live.close();
  await engine.close();
});

const fixture = async (store: LiveShow["store"]) =>
  (await store.apply([{ op: "CreateEntity", tables: ["lighting_fixtures"], fields: { unit_number: "A1" } }], USER)).results[0]?.id as string;

describe("a cascade of triggers deeper than the chain limit is stopped, with a clear error", () => {
  it("with maxChainDepth = 3, a -> b -> c run and d is stopped; the trace and an event say why", async () => {
    expect(live.loaded.rejected).toEqual([]);
    const id = await fixture(live.store);
    await live.dispatcher.idle();
    const edit = await live.store.apply([{ op: "SetField", id, field: "channel", value: 7 }], USER);
    await live.dispatcher.idle();

    expect(live.store.getField(id, "dimmer")).toBe("D7");
    expect(live.store.getField(id, "fixture_type")).toBe("Source 4");
    expect(live.store.getField(id, "position")).toBe("FOH");
    expect(live.store.getField(id, "intensity")).toBeNull();
    const last = (name: string) => live.dispatcher.traces(name).at(-1);
    expect(["a", "b", "c"].map((t) => [last(t)?.status, last(t)?.chain.depth, last(t)?.chain.id])).toEqual([
      ["ok", 0, edit.hash],
      ["ok", 1, edit.hash],
      ["ok", 2, edit.hash],
    ]);
    const stopped = last("d");
    expect(stopped).toMatchObject({ status: "stopped", runId: null, chain: { id: edit.hash, depth: 3 }, error: { type: "Timeout" } });
    expect(stopped?.error?.message).toBe(
      `trigger d: causal chain ${edit.hash} already ran 3 trigger runs (limit 3); stopped to break a runaway loop`,
    );
    expect(live.triggerEvents).toContainEqual(
      expect.objectContaining({ type: "trigger.chain_stopped", trigger: "d", entity: id, reason: "depth", message: stopped?.error?.message }),
    );
    expect(live.dispatcher.list().find((t) => t.name === "d")).toMatchObject({ fired: 1, pending: 0 });
  });
});

describe("a trigger's traces record the real run: its id, how it ended and its error", () => {
  it("a run that passes is traced ok with its run id; one whose script raises is traced failed with the Lua error", async () => {
    const id = await fixture(live.store);
    await live.dispatcher.idle();
    const ok = live.dispatcher.traces("unit_checked").at(-1);
    expect(ok).toMatchObject({ status: "ok", runStatus: "ok", entity: id, args: { unit: "A1" }, error: null });
    expect(await live.runtime.runRecord(ok?.runId as string)).toMatchObject({ script: "check_unit", status: "ok", args: { unit: "A1" } });

    await live.store.apply([{ op: "SetField", id, field: "unit_number", value: "front of house" }], USER);
    await live.dispatcher.idle();
    const failed = live.dispatcher.traces("unit_checked").at(-1);
    expect(failed).toMatchObject({ status: "failed", runStatus: "failed", error: { type: "ScriptError" } });
    expect(failed?.error?.message).toBe("workspace/scripts/check_unit.lua:4: unit number front of house is not like A12");
    expect(failed?.runId).not.toBe(ok?.runId);
    const record = await live.runtime.runRecord(failed?.runId as string);
    expect(record).toMatchObject({ script: "check_unit", status: "error", error: { type: "ScriptError" } });
    expect(live.triggerEvents).toContainEqual({
      type: "trigger.run_failed",
      trigger: "unit_checked",
      entity: id,
      runId: failed?.runId,
      error: failed?.error,
    });
  });
});

describe('concurrency = "restart": a new firing cancels the run still going for that entity', () => {
  it("the first run is cancelled (its script sees context.cancelled()) and only the newest one writes", async () => {
    const show = await openLiveShow({ toml: RESTART, scripts: { slow_refresh: SLOW_REFRESH }, engine });
    try {
      const id = await fixture(show.store);
      // Wait until the first run is really going, however slow the machine.
      const deadline = Date.now() + 10_000;
      while (!show.runtimeEvents.some((e) => e.type === "run.started" && e.script === "slow_refresh") && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 10));
      }
      await show.store.apply([{ op: "SetField", id, field: "unit_number", value: "B2" }], USER);
      await show.dispatcher.idle();

      const traces = show.dispatcher.traces("refresh_on_unit");
      expect(traces.map((t) => [t.newValue, t.status, t.runStatus])).toEqual([
        ["A1", "cancelled", "cancelled"],
        ["B2", "ok", "ok"],
      ]);
      expect(traces[0].reason).toContain("cancelled by a newer firing");
      expect(traces[0].error).toBeNull();
      expect((await show.runtime.runRecord(traces[0].runId as string))?.status).toBe("cancelled");
      expect(show.store.getField(id, "dimmer")).toBe("refreshed B2");
      expect(show.scriptBundles.map((b) => b.meta.origin?.runId)).toEqual([traces[1].runId]);
    } finally {
      await show.close();
    }
  });
});
