// Lua engine figures: run start latency, await round trip, VM speed against native lua5.4.
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { createLuaEngine } from "../daemon/scripts/engine/index.ts";
import type { HostBinding } from "../daemon/scripts/engine/index.ts";
import { size } from "./scale.ts";

/** The native interpreter the VM is compared with (Debian's lua5.4 package), found on PATH. */
const NATIVE_LUA = "lua5.4";

/** A missing interpreter fails the suite, saying how to get it: a figure is never skipped silently. */
function requireNativeLua(): void {
  try {
    execFileSync(NATIVE_LUA, ["-v"], { stdio: "ignore" });
  } catch (e) {
    throw new Error(
      `lua.vm_ratio_vs_native needs the native Lua interpreter \`${NATIVE_LUA}\` (${(e as Error).message}); install it with \`npm run bench:setup\` (apt-get install lua5.4)`,
    );
  }
}

const limits = { timeoutMs: 60_000, memoryBytes: 256 << 20 };
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

export async function run(report: (name: string, value: number, unit: string) => void): Promise<void> {
  const engine = createLuaEngine({ maxWorkers: 2, warmWorkers: 2 });
  try {
    let n = 0;
    const go = (source: string, bindings: Record<string, HostBinding> = {}) =>
      engine.run({ runId: `bench-${++n}`, chunkName: "bench.lua", source, globals: {}, bindings, seed: 1, limits }).done;

    await go("return 1"); // warm the workers and the module cache
    await go("return 1");
    const starts: number[] = [];
    for (let i = 0; i < 60; i++) {
      const o = await go("local x = 1");
      if (o.firstLineAt !== undefined) starts.push(o.firstLineAt - o.startedAt);
    }
    report("lua.run_start.ms.p50", median(starts), "ms");

    const N = size(20_000);
    let took = 0;
    await go(`local n = ${N} local t0 = clock.now() for i = 1, n do core.await(core.sleep(0)) end clock.done(clock.now() - t0)`, {
      "clock.now": { kind: "sync", fn: () => performance.now() },
      "clock.done": { kind: "event", fn: (a) => void (took = a[0] as number) },
    });
    report("lua.await.us", (took * 1000) / N, "us");

    const workload = readFileSync(new URL("../tests/fixtures/lua/workload.lua", import.meta.url), "utf8");
    const t0 = performance.now();
    const o = await go(workload);
    const engineMs = performance.now() - t0;
    if (o.status !== "ok") throw new Error(`workload failed: ${JSON.stringify(o.error)}`);
    const path = new URL("../tests/fixtures/lua/workload.lua", import.meta.url).pathname;
    requireNativeLua();
    const n0 = performance.now();
    execFileSync(NATIVE_LUA, [path]);
    const nativeMs = performance.now() - n0;
    report("lua.vm_ratio_vs_native", engineMs / nativeMs, "x");

    // A CPU-bound script (a loop, string building, deep recursion) with profiling on and off, alternated so both see the same machine.
    const cpu = `local function f(n) local s = 0 for i = 1, n do s = (s + i * 7) % 1000003 end return s end
      local function g(n) local t = {} for i = 1, n do t[i] = tostring(i) end return #t end
      local function fib(n) if n < 2 then return n end return fib(n - 1) + fib(n - 2) end
      for r = 1, ${size(20, 2)} do f(100000) g(5000) fib(20) end`;
    const timed = async (profile: boolean): Promise<number> => {
      const p0 = performance.now();
      const r = await engine.run({ runId: `bench-${++n}`, chunkName: "cpu.lua", source: cpu, globals: {}, bindings: {}, seed: 1, limits, ...(profile ? { profile: {} } : {}) }).done;
      if (r.status !== "ok" || (profile && r.profile === undefined)) throw new Error(`profiled workload failed: ${JSON.stringify(r.error)}`);
      return performance.now() - p0;
    };
    const ratios: number[] = [];
    for (let i = 0; i < size(7, 1); i++) ratios.push((await timed(true)) / (await timed(false)));
    report("lua.profile.overhead_ratio", median(ratios), "x");
  } finally {
    await engine.close();
  }
}
