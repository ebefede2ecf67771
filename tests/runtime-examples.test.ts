import { createHash } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { USER, openKit } from "./fixtures/runtime-kit/kit.ts";
import { specExample } from "./fixtures/spec-examples.ts";
import type { Kit } from "./fixtures/runtime-kit/kit.ts";

let kit: Kit;
beforeAll(async () => {
  kit = await openKit();
});
afterAll(() => kit.close());

describe("the spec's Renumber Cues script renumbers a scene's cues, committed by a person", () => {
  it("runs unchanged, leaves a session for review, and the commit gives the expected cue numbers", async () => {
    const source = specExample("workspace/scripts/renumber_cues.lua");
    const { store } = kit;
    const r0 = await store.apply([{ op: "CreateEntity", tables: ["scenes"], fields: { name: "Act 1" } }], USER);
    const scene = r0.results[0]?.id as string;
    const other = (await store.apply([{ op: "CreateEntity", tables: ["scenes"], fields: { name: "Act 2" } }], USER)).results[0]?.id as string;
    const orders = [3.5, 1.25, 2.0, 10, 7];
    const cues: string[] = [];
    for (const [i, o] of orders.entries()) {
      const r = await store.apply([{ op: "CreateEntity", tables: ["lighting_cues"], fields: { order_index: o, number: 100 + i, scene } }], USER);
      cues.push(r.results[0]?.id as string);
    }
    const stray = (await store.apply([{ op: "CreateEntity", tables: ["lighting_cues"], fields: { order_index: 0.5, number: 99, scene: other } }], USER)).results[0]?.id as string;
    kit.scripts.renumber_cues = { source, chunkName: "workspace/scripts/renumber_cues.lua", config: { executionMode: "session", onError: "skip" } };

    const result = await kit.runtime.run("renumber_cues", { args: { scene_id: scene } }).done;
    expect(result.error).toBeUndefined();
    expect(result.status).toBe("ok");
    expect(result.sessionStatus).toBe("open");
    expect(result.ops).toBe(5);
    // Nothing in canonical yet.
    expect(cues.map((id) => store.getField(id, "number"))).toEqual([100, 101, 102, 103, 104]);
    const toasts = kit.events.filter((e) => e.type === "toast" && e.runId === result.runId);
    expect(toasts.map((t) => (t.type === "toast" ? t.message : ""))).toEqual(["5 cues renumbered"]);

    const commit = await kit.runtime.commitSession(result.sessionId as string, "stage-manager");
    expect(commit.status).toBe("committed");
    // order_index 1.25, 2.0, 3.5, 7, 10 → cues[1], cues[2], cues[0], cues[4], cues[3]
    expect(cues.map((id) => store.getField(id, "number"))).toEqual([3, 1, 2, 5, 4]);
    expect(store.getField(stray, "number")).toBe(99);
    const bundle = (await store.history({ entity: cues[0], limit: 1 }))[0];
    expect(bundle.meta.actor).toEqual({ kind: "script", name: "renumber_cues", runId: result.runId });
    // The bundle names the version that wrote it: the sha-256 of the spec's script text (it requires no module).
    const hash = createHash("sha256").update(source).digest("hex");
    expect(bundle.meta.origin).toMatchObject({ script: "renumber_cues", runId: result.runId, hash });
    expect(bundle.meta.ops).toBe(5);
  });
});

describe("the spec's Lightwright Sync loop creates and updates fixtures from the paperwork", () => {
  it("produces exactly the expected fixtures after commit", async () => {
    const original = specExample("modules/lighting/scripts/lightwright_sync.lua");
    // The native parser is replaced by a Lua table of fixtures; the loop itself is unchanged.
    const fixtures = `local lightwright = { parse = function(_) return { fixtures = {
      { unit_number = "A1", channel = 11, dimmer = "1-1", instrument_type = "Source 4", position = "FOH" },
      { unit_number = "A2", channel = 12, dimmer = "1-2", instrument_type = "Source 4", position = "FOH" },
      { unit_number = "B1", channel = 21, dimmer = "2-1", instrument_type = "PAR", position = "1st Electric" },
      { unit_number = "B2", channel = 22, dimmer = "2-2", instrument_type = "PAR", position = "1st Electric" },
    } } end }\n`;
    const source = fixtures + original;
    const { store } = kit;
    const a1 = (await store.apply([{ op: "CreateEntity", tables: ["lighting_fixtures"], fields: { unit_number: "A1", channel: 11, dimmer: "1-1" } }], USER)).results[0]?.id as string;
    const a2 = (await store.apply([{ op: "CreateEntity", tables: ["lighting_fixtures"], fields: { unit_number: "A2", channel: 5, dimmer: "9-9" } }], USER)).results[0]?.id as string;
    kit.scripts["lighting/lightwright_sync"] = { source, chunkName: "modules/lighting/scripts/lightwright_sync.lua", config: { onError: "skip" } };
    const result = await kit.runtime.run("lighting/lightwright_sync", { args: { path: "show.lw6" } }).done;
    expect(result.error).toBeUndefined();
    const logs = kit.events.filter((e) => e.type === "log" && e.runId === result.runId).map((e) => (e.type === "log" ? e.message : ""));
    expect(logs).toEqual(["Sync complete: 2 created, 1 updated, 1 unchanged"]);
    expect((await kit.runtime.commitSession(result.sessionId as string)).status).toBe("committed");
    const rows = store.query("table == 'lighting_fixtures' ORDER BY unit_number");
    expect(rows.map((r) => [r.fields["lighting.fixture.unit_number"], r.fields["lighting.fixture.channel"], r.fields["lighting.fixture.dimmer"], r.fields["lighting.fixture.fixture_type"] ?? null, r.fields["lighting.fixture.position"] ?? null])).toEqual([
      ["A1", 11, "1-1", null, null],
      ["A2", 12, "1-2", null, null],
      ["B1", 21, "2-1", "PAR", "1st Electric"],
      ["B2", 22, "2-2", "PAR", "1st Electric"],
    ]);
    expect(rows.map((r) => r.id).slice(0, 2)).toEqual([a1, a2]);
  });
});
