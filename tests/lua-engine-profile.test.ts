import { afterAll, describe, expect, it } from "vitest";
import type { HostBinding, RunProfile } from "../daemon/scripts/engine/index.ts";
import { harness } from "./fixtures/lua/harness.ts";

const h = harness(2);
afterAll(() => h.engine.close());

const selfMs = (p: RunProfile, name: string): number =>
  p.stacks.filter((s) => p.frames[s.frames.at(-1) ?? -1]?.name === name).reduce((a, s) => a + s.ms, 0);

describe("a profiled run says where its Lua time, host calls and awaits went", () => {
  it("samples Lua stacks by function and line, times host calls by key and awaits by what was awaited", async () => {
    const bindings: Record<string, HostBinding> = {
      "host.lookup": { kind: "sync", fn: async () => (await new Promise((r) => setTimeout(r, 30)), 1) },
      "host.fetch": { kind: "async", fn: () => new Promise((r) => setTimeout(() => r("x"), 40)) },
    };
    const o = await h.run(
      `local function spin(n)
        local s = 0
        for i = 1, n do s = s + i % 7 end
        return s
      end
      local function light(n)
        local s = 0
        for i = 1, n do s = s + i end
        return s
      end
      spin(3000000)
      light(300000)
      host.lookup("slow text")
      core.await(core.sleep(50))
      core.await(host.fetch())`,
      { bindings, profile: { sampleEvery: 1000, keyByFirstArg: ["host.lookup"] } },
    );
    expect(o.error).toBeUndefined();
    const p = o.profile as RunProfile;
    expect(p.samples).toBeGreaterThan(100);
    expect(selfMs(p, "spin")).toBeGreaterThan(selfMs(p, "light"));
    const spin = p.frames.find((f) => f.name === "spin");
    expect(spin).toMatchObject({ kind: "lua", file: "test.lua", line: 1 });
    expect(p.lines[0]).toMatchObject({ frame: p.frames.indexOf(spin!), line: 3 });
    expect(p.hostCalls.find((c) => c.name === "host.lookup")).toMatchObject({ key: "slow text", count: 1 });
    expect(p.hostCalls.find((c) => c.name === "host.lookup")!.ms).toBeGreaterThanOrEqual(25);
    expect(p.awaits.map((a) => a.what).sort()).toEqual(["host.fetch", "sleep"]);
    expect(p.awaitMs).toBeGreaterThanOrEqual(80);
  });

  it("samples the coroutines a script creates, and names what a race waited on", async () => {
    const o = await h.run(
      `local function inner(n) local s = 0 for i = 1, n do s = s + i % 3 end return s end
      local co = coroutine.wrap(function() inner(2000000) end)
      co()
      core.await(core.race(core.sleep(20), core.sleep(200)))`,
      { profile: { sampleEvery: 500 } },
    );
    expect(o.error).toBeUndefined();
    const p = o.profile as RunProfile;
    expect(selfMs(p, "inner")).toBeGreaterThan(0);
    expect(p.sampleEvery).toBe(500);
    expect(p.awaits).toEqual([expect.objectContaining({ what: "race(sleep, sleep)", count: 1 })]);
  });

  it("refuses a sample rate that is not a whole number of instructions", async () => {
    for (const sampleEvery of [0, -5, 1.5, Number.NaN]) {
      const o = await h.run(`local x = 1`, { profile: { sampleEvery } });
      expect(o.status).toBe("error");
      expect(o.error).toMatchObject({ type: "InvalidOperation", message: `test.lua: profile.sampleEvery must be a whole number of instructions ≥ 1, got ${String(sampleEvery)}` });
    }
  });

  it("is off unless asked for", async () => {
    const o = await h.run(`local s = 0 for i = 1, 1000 do s = s + i end`);
    expect(o.profile).toBeUndefined();
  });
});
