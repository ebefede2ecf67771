// A show's triggers loaded from its files with loadShowTriggers: cycles found from the scripts'
// capabilities are rejected with the loop spelled out while the others load and run; mistakes
// are listed at their file and line.
import { rmSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadShow } from "../daemon/config/index.ts";
import { CapabilitySet, parseCapability } from "../daemon/scripts/capabilities/index.ts";
import { loadShowTriggers, triggerReloadRefusal } from "../daemon/triggers/index.ts";
import { USER, copyShow, openLiveShow, sceneWithCues } from "./fixtures/triggers-live/kit.ts";
import type { LiveShow } from "./fixtures/triggers-live/kit.ts";

const CYCLE = `
# Puts a stopped cue back to running: it writes the very field it watches.
[script.keep_running]
execution_mode = "autoCommit"
capabilities = ["data.write:lighting.cue.status"]

[trigger.restart_stopped]
on_field_change = "lighting.cue.status"
when = "new_value == 'stopped'"
run_script = "keep_running"
`;

const KEEP_RUNNING = `
function main()
    core.set_field(context.trigger_entity(), "status", "running")
end
`;

describe("a trigger whose script may write its own watched field is rejected at load, the others load", () => {
  let live: LiveShow;
  beforeAll(async () => {
    live = await openLiveShow({ toml: CYCLE, scripts: { keep_running: KEEP_RUNNING } });
  });
  afterAll(() => live.close());

  it("the error spells out the cycle at the trigger's file and line", () => {
    expect(live.loaded.errors).toEqual([]);
    expect(live.loaded.rejected.map((r) => r.name)).toEqual(["restart_stopped"]);
    const [rejected] = live.loaded.rejected;
    const file = path.join(live.root, "openprod.toml");
    expect(rejected.file).toBe(file);
    expect(rejected.error.message).toBe(
      `${file}:${rejected.line}: [trigger.restart_stopped] trigger cycle: restart_stopped -> keep_running writes lighting.cue.status -> restart_stopped; ` +
        `this trigger is not loaded (narrow the script's data.write capabilities or watch another field)`,
    );
    expect(live.dispatcher.list().map((t) => [t.name, t.status])).toEqual([
      ["renumber_on_reorder", "active"],
      ["cue_started", "active"],
      ["restart_stopped", "rejected"],
    ]);
  });

  it("the loaded triggers still run their scripts; the rejected one never starts", async () => {
    const { cues } = await sceneWithCues(live.store, [1]);
    await live.dispatcher.idle();
    for (const s of await live.runtime.sessions()) await live.runtime.discardSession(s.id);
    await live.store.apply([{ op: "SetField", id: cues[0], field: "status", value: "running" }], USER);
    await live.dispatcher.idle();
    await live.store.apply([{ op: "SetField", id: cues[0], field: "status", value: "stopped" }], USER);
    await live.dispatcher.idle();
    expect(live.store.getField(cues[0], "status")).toBe("stopped");
    expect(typeof live.store.getField(cues[0], "fired_at")).toBe("string");
    // Creating the cue (status "standby") fired it too, filtered by its condition.
    expect(live.dispatcher.traces("cue_started").map((t) => [t.status, t.newValue])).toEqual([
      ["filtered", "standby"],
      ["ok", "running"],
      ["filtered", "stopped"],
    ]);
    expect(live.dispatcher.traces("restart_stopped")).toEqual([]);
    expect(live.scriptBundles.some((b) => b.meta.origin?.script === "keep_running")).toBe(false);
  });
});

describe("mistakes in triggers and capability lists are all listed, each at its file and line", () => {
  let root: string;
  beforeAll(() => {
    root = copyShow({
      toml: `
[script.stamp]
capabilities = ["data.write:lighting.cue.fird_at"]

[trigger.typo]
on_field_change = "lighting.cue.stauts"
run_script = "log_cue_start"

[trigger.stamp_on_label]
on_field_change = "lighting.cue.label"
run_script = "stamp"
`,
    });
  });
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it("a bad trigger and a bad capability are errors; the spec's triggers still load", async () => {
    const show = await loadShow(root);
    const loaded = loadShowTriggers(show);
    const file = path.join(root, "openprod.toml");
    expect(loaded.errors.map((e) => e.message)).toEqual([
      expect.stringMatching(new RegExp(`^${file}:\\d+: \\[script\\.stamp\\] capabilities\\[0\\]: capability "data.write:lighting.cue.fird_at": unknown field "lighting.cue.fird_at" \\(did you mean "lighting.cue.fired_at"\\?\\)`)),
      expect.stringMatching(new RegExp(`^${file}:\\d+: \\[trigger\\.typo\\] on_field_change: .*lighting\\.cue\\.stauts`)),
    ]);
    expect(loaded.triggers.map((t) => t.name)).toEqual(["renumber_on_reorder", "cue_started", "stamp_on_label"]);
    // A script whose list is wrong is granted nothing, and the cycle check assumed exactly that.
    expect(loaded.capabilities.get("stamp")).toBe(CapabilitySet.none);
  });
});

describe("the capabilities the runtime enforces are the ones the cycle check saw", () => {
  it("module scripts get the module's grants plus their own; a widened grant turns a trigger into a cycle", async () => {
    const show = await loadShow(copyShowOnce());
    const loaded = loadShowTriggers(show);
    const sync = loaded.capabilities.get("lighting/lightwright_sync");
    expect(sync?.canWrite("lighting.fixture.channel")).toBe(true);
    expect(sync?.canWrite("sm.contact.name")).toBe(false);
    expect(sync?.fsAllowed("read", "show.lw6")).toBe(true);
    expect(loaded.capabilities.get("lighting/osc_listener")?.fsAllowed("read", "show.lw6")).toBe(false);

    // Granting renumber_cues order_index as well (say, an admin widened it): now it can re-trigger itself.
    const widened = new CapabilitySet(["data.write:lighting.cue.number", "data.write:lighting.cue.order_index"].map(parseCapability));
    const again = loadShowTriggers(show, { capabilities: new Map([["renumber_cues", widened]]) });
    expect(again.triggers.map((t) => t.name)).toEqual(["cue_started"]);
    expect(again.rejected[0].error.message).toContain(
      "trigger cycle: renumber_on_reorder -> renumber_cues writes lighting.cue.order_index -> renumber_on_reorder",
    );
    expect(again.capabilities.get("renumber_cues")).toBe(widened);
  });
});

describe("a live reload replaces the trigger set, or is refused with the reason", () => {
  let live: LiveShow;
  beforeAll(async () => {
    live = await openLiveShow();
  });
  afterAll(() => live.close());

  it("a trigger kept across a reload keeps its traces and count; a removed one stops firing; an added one fires", async () => {
    const { cues } = await sceneWithCues(live.store, [1]);
    await live.store.apply([{ op: "SetField", id: cues[0], field: "status", value: "running" }], USER);
    await live.dispatcher.idle();
    const before = live.dispatcher.traces("cue_started").length;
    expect(before).toBeGreaterThan(0);

    const [reorder, started] = ["renumber_on_reorder", "cue_started"].map((n) => live.loaded.triggers.find((t) => t.name === n));
    if (!reorder || !started) throw new Error("the example show's triggers are missing");
    live.dispatcher.reconfigure([started]);
    expect(live.dispatcher.list().map((t) => t.name)).toEqual(["cue_started"]);
    expect(live.dispatcher.traces("cue_started")).toHaveLength(before);
    expect(live.dispatcher.list()[0].fired).toBe(before);
    await live.store.apply([{ op: "SetField", id: cues[0], field: "order_index", value: 5 }], USER);
    await live.dispatcher.idle();
    expect(live.dispatcher.traces("renumber_on_reorder")).toEqual([]);

    live.dispatcher.reconfigure([started, reorder]);
    await live.store.apply([{ op: "SetField", id: cues[0], field: "order_index", value: 6 }], USER);
    await live.dispatcher.idle();
    expect(live.dispatcher.traces("renumber_on_reorder").map((t) => t.newValue)).toEqual([6]);
    expect(() => live.dispatcher.reconfigure([started, started])).toThrow(/given twice/);
  });

  it("a reload that adds a cycle or a mistake is refused; one that keeps an old rejection is not", async () => {
    const show = await loadShow(copyShowOnce());
    const inForce = loadShowTriggers(show);
    expect(triggerReloadRefusal(inForce, inForce)).toBeNull();
    const widened = new CapabilitySet(["data.write:lighting.cue.number", "data.write:lighting.cue.order_index"].map(parseCapability));
    const cyclic = loadShowTriggers(show, { capabilities: new Map([["renumber_cues", widened]]) });
    const refusal = triggerReloadRefusal(inForce, cyclic);
    expect(refusal?.code).toBe("ConfigError");
    expect(refusal?.message).toContain("trigger cycle: renumber_on_reorder -> renumber_cues writes lighting.cue.order_index -> renumber_on_reorder");
    expect(refusal?.details).toMatchObject({ file: path.join(show.dir.root, "openprod.toml"), trigger: "renumber_on_reorder" });
    // Already left out at start: still left out, and other edits are not held hostage by it.
    expect(triggerReloadRefusal(cyclic, cyclic)).toBeNull();
  });
});

let copied: string | null = null;
function copyShowOnce(): string {
  copied ??= copyShow();
  return copied;
}
afterAll(() => {
  if (copied !== null) rmSync(copied, { recursive: true, force: true });
});
