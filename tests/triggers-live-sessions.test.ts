// Triggers and session overlays with real Lua: what waits in an overlay fires nothing until it is
// committed, and a trigger's `mode` overrides the script's execution_mode.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { USER, openLiveShow, sceneWithCues } from "./fixtures/triggers-live/kit.ts";
import type { LiveShow } from "./fixtures/triggers-live/kit.ts";

const START_CUES = `
-- Starts every cue of a scene (a person reviews the overlay before it goes live).
function main()
    for _, cue in ipairs(core.query("table == 'lighting_cues' AND scene == ?", args.scene_id)) do
        core.set_field(cue.id, "status", "running")
        core.set_field(cue.id, "label", "started by script")
    end
end
`;

const TOML = `
[script.start_cues]
execution_mode = "session"
capabilities = ["data.write:lighting.cue.status", "data.write:lighting.cue.label"]

# The spec's renumber_cues again, straight to canonical when a scene is renamed.
[trigger.renumber_on_rename]
on_field_change = "lighting.scene.name"
run_script = "renumber_cues"
params = { scene_id = "$source" }
mode = "autoCommit"
`;

let live: LiveShow;
beforeAll(async () => {
  live = await openLiveShow({ toml: TOML, scripts: { start_cues: START_CUES } });
});
afterAll(() => live.close());

async function quietly<T>(fn: () => Promise<T>): Promise<T> {
  live.dispatcher.stop();
  try {
    return await fn();
  } finally {
    live.dispatcher.start();
  }
}

describe("changes waiting in a script's session overlay fire no trigger until they are committed", () => {
  it("an open overlay setting three cues running fires nothing; committing it fires cue_started once per changed cue", async () => {
    expect(live.loaded.errors).toEqual([]);
    expect(live.loaded.rejected).toEqual([]);
    const { scene, cues } = await quietly(() => sceneWithCues(live.store, [1, 2, 3]));

    const run = await live.runtime.run("start_cues", { args: { scene_id: scene }, user: "stage-manager" }).done;
    expect(run).toMatchObject({ status: "ok", ops: 6, sessionStatus: "open" });
    await live.dispatcher.idle();
    expect(live.dispatcher.traces("cue_started")).toEqual([]);
    expect(cues.map((id) => live.store.getField(id, "status"))).toEqual(["standby", "standby", "standby"]);

    const commit = await live.runtime.commitSession(run.sessionId as string, "stage-manager");
    if (commit.status !== "committed") throw new Error(`the commit met conflicts: ${JSON.stringify(commit.conflicts)}`);
    expect(commit.ops).toBe(6);
    await live.dispatcher.idle();
    const traces = live.dispatcher.traces("cue_started");
    expect(traces.map((t) => t.entity).sort()).toEqual([...cues].sort());
    expect(traces.every((t) => t.status === "ok" && t.bundle === commit.hash && t.chain.depth === 0)).toBe(true);
    expect(new Set(traces.map((t) => t.runId)).size).toBe(3);
    for (const id of cues) expect(typeof live.store.getField(id, "fired_at")).toBe("string");
    // The label changes in the same bundle are watched by nothing.
    expect(live.dispatcher.list().reduce((n, t) => n + t.fired, 0)).toBe(3);
  });
});

describe("a trigger's mode overrides the script's execution_mode", () => {
  it("renumber_cues (a session script) run by an autoCommit trigger writes straight to canonical", async () => {
    const { scene, cues } = await quietly(() => sceneWithCues(live.store, [3, 1, 2], "Act 2"));
    const sessionsBefore = (await live.runtime.sessions()).length;
    await live.store.apply([{ op: "SetField", id: scene, field: "name", value: "Act Two" }], USER);
    await live.dispatcher.idle();

    const [trace] = live.dispatcher.traces("renumber_on_rename");
    expect(trace).toMatchObject({ status: "ok", entity: scene, args: { scene_id: scene } });
    expect(cues.map((id) => live.store.getField(id, "number"))).toEqual([3, 1, 2]);
    const record = await live.runtime.runRecord(trace.runId as string);
    expect(record).toMatchObject({ mode: "autoCommit", status: "ok", bundles: 3 });
    expect((await live.runtime.sessions()).length).toBe(sessionsBefore);
    const chains = live.scriptBundles.filter((b) => b.meta.origin?.runId === trace.runId).map((b) => b.meta.origin?.chain);
    expect(chains).toEqual([0, 1, 2].map(() => ({ ...trace.chain, depth: 1 })));
  });
});
