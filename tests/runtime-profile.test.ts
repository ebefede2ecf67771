import { readFileSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { USER, openKit } from "./fixtures/runtime-kit/kit.ts";
import type { Kit } from "./fixtures/runtime-kit/kit.ts";
import { functionTimes, profileRanking, profileTable, speedscopeFile, SPEEDSCOPE_SCHEMA } from "../daemon/scripts/runtime/index.ts";
import type { ScriptProfile } from "../daemon/scripts/runtime/index.ts";

let kit: Kit;
const FIXTURES = 3000;
beforeAll(async () => {
  kit = await openKit();
  const ops = [];
  for (let i = 0; i < FIXTURES; i++) ops.push({ op: "CreateEntity" as const, tables: ["lighting_fixtures"], fields: { unit_number: `U${i}`, channel: i, position: i % 2 ? "FOH" : "LX1" } });
  await kit.store.apply(ops, USER);
}, 60_000);
afterAll(() => kit.close());

/** A hot Lua loop, then a query no index serves. */
const HOT_AND_SLOW = `
local function crunch(n)
  local s = 0
  for i = 1, n do s = (s + i * 7) % 1000003 end
  return s
end
local function main_work()
  crunch(ITER)
  local rows = core.query("table == 'lighting_fixtures' AND position == 'FOH' AND channel > 10")
  core.create_entity({ table = "scenes", fields = { name = "done " .. #rows } })
end
main_work()
`;

describe("openprod run --profile says where a slow script's time went", () => {
  it("names the hot Lua function and the slow query, slowest first, and counts the operations", async () => {
    // Time the query and the loop alone first (the machine may be busy), then make the loop
    // about four times as long as the slowest query seen.
    const QUERY = `core.query("table == 'lighting_fixtures' AND position == 'FOH' AND channel > 10")`;
    const queryMs: number[] = [];
    for (let i = 0; i < 2; i++) {
      const probe = await kit.lua(QUERY, undefined, { profile: true });
      expect(probe.profile?.hostCalls[0]).toMatchObject({ name: "core.query", count: 1 });
      queryMs.push(probe.profile?.hostCalls[0]?.ms ?? 0);
    }
    const loop = await kit.lua(HOT_AND_SLOW.replace("ITER", "1000000").replace(/local rows[^\n]*\n[^\n]*\n/, "\n"), undefined, { profile: true });
    const perIterMs = Math.max(1e-6, (loop.profile?.luaMs ?? 100) / 1_000_000);
    const iterations = Math.min(40_000_000, Math.max(1_000_000, Math.round((4 * Math.max(...queryMs)) / perIterMs)));

    const r = await kit.lua(HOT_AND_SLOW.replace("ITER", String(iterations)), undefined, { profile: true });
    expect(r.error).toBeUndefined();
    const p = r.profile as ScriptProfile;
    const ranking = profileRanking(p);
    expect(ranking[0]).toMatchObject({ kind: "lua", name: "crunch", where: expect.stringMatching(/^t\d+\.lua:2$/) });
    expect(ranking[1]).toMatchObject({ kind: "host", name: `core.query "table == 'lighting_fixtures' AND position == 'FOH' AND channel > 10"`, count: 1 });
    expect(p.ops).toBe(1);
    expect(p.lines[0].line).toBe(4);
    const table = profileTable(p, 5);
    expect(table).toMatch(/where the time went \(top 5\)/);
    expect(table.indexOf("crunch")).toBeLessThan(table.indexOf("core.query"));
    // main_work's time holds both: the loop it ran and the query it made.
    const work = functionTimes(p).find((f) => f.name === "main_work");
    expect(work?.totalMs).toBeGreaterThanOrEqual(ranking[0].ms + ranking[1].ms - 0.01);
    expect(table).toMatch(/Lua functions with what they called/);

    // Kept with the run record, for openprod profile <run-id>.
    const rec = await kit.runtime.runRecord(r.runId);
    expect(rec?.profile?.hostCalls.map((c) => c.name)).toContain("core.query");
  });

  it("is off by default: no profile in the result or the record", async () => {
    const r = await kit.lua(`local s = 0 for i = 1, 1000 do s = s + i end`);
    expect(r.profile).toBeUndefined();
    expect((await kit.runtime.runRecord(r.runId))?.profile).toBeUndefined();
  });

  it("times waits in core.await by what was awaited: a dialog, a sleep", async () => {
    kit.onAsk = async () => (await new Promise((r) => setTimeout(r, 60)), true);
    try {
      const r = await kit.lua(`local ok = core.await(ui.dialog.confirm("Go?")) core.await(core.sleep(20))`, undefined, { profile: true });
      expect(r.error).toBeUndefined();
      const p = r.profile as ScriptProfile;
      expect(p.awaits.map((a) => a.what)).toEqual(["ui.dialog.confirm", "sleep"]);
      expect(p.awaits[0].ms).toBeGreaterThanOrEqual(50);
      expect(p.awaitMs).toBeGreaterThanOrEqual(65);
      expect(profileRanking(p)[0]).toMatchObject({ kind: "await", name: "ui.dialog.confirm", count: 1 });
    } finally {
      kit.onAsk = undefined;
    }
  });

  it("profiles every run of a script configured with profile = true", async () => {
    const r = await kit.lua(`core.await(core.sleep(30))`, { profile: true });
    expect(r.profile?.awaits).toEqual([expect.objectContaining({ what: "sleep", count: 1 })]);
  });
});

describe("the profile's speedscope file opens in speedscope and Chrome's profiler", () => {
  it("has the schema, shared frames and a sampled profile whose stacks index those frames", async () => {
    const r = await kit.lua(`local function f(n) local s = 0 for i = 1, n do s = s + i end return s end f(400000) core.query("table == 'scenes'")`, undefined, { profile: true });
    const file = JSON.parse(JSON.stringify(speedscopeFile(r.profile as ScriptProfile, `run ${r.runId}`))) as Record<string, unknown> & {
      shared: { frames: { name: string; file?: string; line?: number }[] };
      profiles: { type: string; unit: string; startValue: number; endValue: number; samples: number[][]; weights: number[] }[];
    };
    expect(file.$schema).toBe(SPEEDSCOPE_SCHEMA);
    expect(file.shared.frames.length).toBeGreaterThan(0);
    for (const f of file.shared.frames) expect(typeof f.name).toBe("string");
    expect(file.shared.frames.map((f) => f.name)).toEqual(expect.arrayContaining(["f", `core.query "table == 'scenes'"`]));
    expect(file.profiles).toHaveLength(1);
    const prof = file.profiles[0];
    expect(prof.type).toBe("sampled");
    expect(prof.unit).toBe("milliseconds");
    expect(prof.samples.length).toBe(prof.weights.length);
    for (const s of prof.samples) for (const i of s) expect(file.shared.frames[i]).toBeDefined();
    expect(prof.endValue).toBeCloseTo(prof.weights.reduce((a, w) => a + w, 0), 1);
    expect(prof.startValue).toBe(0);
  });
});

describe("the example in docs/profiling-scripts.md profiles as the doc says", () => {
  it("ranks renumber first (string.format's time included) and names the query by its text", async () => {
    const doc = readFileSync(path.resolve(import.meta.dirname, "../docs/profiling-scripts.md"), "utf8");
    const source = /```lua\n([\s\S]*?)```/.exec(doc)?.[1] ?? "";
    expect(source).toContain("function main()");
    const r = await kit.lua(source, undefined, { profile: true });
    expect(r.error).toBeUndefined();
    const ranking = profileRanking(r.profile as ScriptProfile);
    expect(ranking[0]).toMatchObject({ kind: "lua", name: "renumber" });
    // string.format's time is renumber's: samples fall between Lua instructions.
    expect(ranking.some((e) => e.name === "format")).toBe(false);
    expect(ranking).toEqual(expect.arrayContaining([expect.objectContaining({ kind: "host", name: `core.query "table == 'lighting_cues' AND status == 'standby'"` })]));
    expect(r.profile?.lines[0].line).toBe(4);
    expect(profileTable(r.profile as ScriptProfile)).toContain("where the time went (top 10)");
  });
});
