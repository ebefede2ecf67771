// The Scripts Specification's two triggers, end to end: the example show's openprod.toml, its
// real Lua scripts (renumber_cues.lua, log_cue_start.lua), the real runtime and a real store.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { USER, openLiveShow, sceneWithCues } from "./fixtures/triggers-live/kit.ts";
import type { LiveShow } from "./fixtures/triggers-live/kit.ts";

let live: LiveShow;
beforeAll(async () => {
  live = await openLiveShow();
});
afterAll(() => live.close());

const numbers = (ids: string[]) => ids.map((id) => live.store.getField(id, "number"));
const setField = (id: string, field: string, value: string | number) => live.store.apply([{ op: "SetField", id, field, value }], USER);

/** Builds data with the triggers paused, as if it had been there before the daemon started. */
async function quietly<T>(fn: () => Promise<T>): Promise<T> {
  live.dispatcher.stop();
  try {
    return await fn();
  } finally {
    live.dispatcher.start();
  }
}

describe("the example show's triggers load from its openprod.toml", () => {
  it("both spec triggers are active, nothing is rejected, and the scripts' write sets come from their capabilities", () => {
    expect(live.loaded.errors).toEqual([]);
    expect(live.loaded.rejected).toEqual([]);
    expect(live.dispatcher.list().map((t) => [t.name, t.status, t.script, t.mode])).toEqual([
      ["renumber_on_reorder", "active", "renumber_cues", "session"],
      ["cue_started", "active", "log_cue_start", "autoCommit"],
    ]);
    expect([...live.loaded.capabilities.get("renumber_cues")!.writeSet(live.show.schema)]).toEqual(["lighting.cue.number"]);
    expect([...live.loaded.capabilities.get("log_cue_start")!.writeSet(live.show.schema)]).toEqual(["lighting.cue.fired_at"]);
    // A module script runs with its module's capabilities (data.write:lighting.*).
    expect(live.loaded.capabilities.get("lighting/osc_listener")!.canWrite("lighting.cue.status")).toBe(true);
  });
});

describe("reordering a cue renumbers exactly the cues of its scene, for a person to review and commit", () => {
  it("runs renumber_cues.lua in a session overlay; committing it gives the new numbers, and writing numbers fires nothing", async () => {
    const { scene, cues } = await quietly(() => sceneWithCues(live.store, [1, 2, 3, 4]));
    const other = await quietly(() => sceneWithCues(live.store, [1, 2], "Act 2"));
    await setField(cues[3], "order_index", 0.5);
    await live.dispatcher.idle();

    const traces = live.dispatcher.traces("renumber_on_reorder");
    expect(traces).toHaveLength(1);
    const [trace] = traces;
    expect(trace).toMatchObject({
      status: "ok",
      runStatus: "ok",
      entity: cues[3],
      oldValue: 4,
      newValue: 0.5,
      scope: { edgeType: "scene", entity: scene },
      args: { scene_id: scene },
    });
    // Session mode: nothing in canonical yet, the overlay waits for review.
    expect(numbers(cues)).toEqual([0, 0, 0, 0]);
    const record = await live.runtime.runRecord(trace.runId as string);
    expect(record).toMatchObject({ script: "renumber_cues", mode: "session", status: "ok", ops: 4, sessionStatus: "open", args: { scene_id: scene } });
    expect(record?.context).toMatchObject({ trigger_entity: cues[3], trigger_field: "lighting.cue.order_index", old_value: 4, new_value: 0.5 });
    expect(record?.chain).toEqual({ ...trace.chain, depth: 1 });
    const sessions = await live.runtime.sessions();
    expect(sessions.map((s) => s.id)).toEqual([record?.sessionId]);
    expect(live.runtimeEvents.filter((e) => e.type === "toast" && e.runId === trace.runId).map((e) => (e.type === "toast" ? e.message : ""))).toEqual(["4 cues renumbered"]);

    const commit = await live.runtime.commitSession(record?.sessionId as string, "stage-manager");
    expect(commit.status).toBe("committed");
    await live.dispatcher.idle();
    expect(numbers(cues)).toEqual([2, 3, 4, 1]);
    expect(numbers(other.cues)).toEqual([0, 0]);
    const [bundle] = await live.store.history({ entity: cues[0], limit: 1 });
    expect(bundle.meta.origin).toMatchObject({ script: "renumber_cues", runId: trace.runId, committedBy: "stage-manager", chain: { id: trace.chain.id, depth: 1 } });
    // The committed numbers are not order_index: the trigger did not fire again.
    expect(live.dispatcher.traces("renumber_on_reorder")).toHaveLength(1);
    expect(await live.runtime.sessions()).toEqual([]);
  });
});

describe("a cue that starts running is stamped by log_cue_start.lua; stopping it runs nothing", () => {
  it("status 'running' runs the script in autoCommit: fired_at is set in a bundle carrying the causal chain", async () => {
    const { cues } = await quietly(() => sceneWithCues(live.store, [1], "Act 3"));
    await live.store.apply([{ op: "SetField", id: cues[0], field: "label", value: "House to half" }], USER);
    const started = await setField(cues[0], "status", "running");
    await live.dispatcher.idle();

    const trace = live.dispatcher.traces("cue_started").at(-1);
    expect(trace).toMatchObject({ status: "ok", runStatus: "ok", condition: true, entity: cues[0], bundle: started.hash, oldValue: "standby", newValue: "running" });
    const firedAt = live.store.getField(cues[0], "fired_at");
    expect(typeof firedAt).toBe("string");
    const [bundle] = await live.store.history({ entity: cues[0], limit: 1 });
    expect(bundle.meta.actor).toEqual({ kind: "script", name: "log_cue_start", runId: trace?.runId });
    expect(bundle.meta.origin?.chain).toEqual({ id: started.hash, depth: 1, startedAt: trace?.chain.startedAt });
    const record = await live.runtime.runRecord(trace?.runId as string);
    expect(record).toMatchObject({ mode: "autoCommit", status: "ok", bundles: 1, user: "trigger:cue_started" });
    expect(record?.log.map((l) => l.message)).toEqual(["Cue 0 started: House to half"]);

    const runs = live.scriptBundles.length;
    await setField(cues[0], "status", "stopped");
    await live.dispatcher.idle();
    expect(live.dispatcher.traces("cue_started").at(-1)).toMatchObject({ status: "filtered", condition: false, runId: null, newValue: "stopped" });
    expect(live.dispatcher.traces("cue_started").at(-1)?.reason).toBe(`when "new_value == 'running'" is false`);
    expect(live.scriptBundles.length).toBe(runs);
    expect(live.store.getField(cues[0], "fired_at")).toBe(firedAt);

    // Durable: the stamp and its chain are there after the store is closed and opened again.
    const reopened = await live.reopenStore();
    expect(reopened.getField(cues[0], "fired_at")).toBe(firedAt);
    const [again] = (await reopened.history({ entity: cues[0], limit: 2 })).filter((b) => b.meta.actor.kind === "script");
    expect(again.meta.origin?.chain).toMatchObject({ id: started.hash, depth: 1 });
  });
});
