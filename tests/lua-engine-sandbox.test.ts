import { afterAll, describe, expect, it } from "vitest";
import { harness } from "./fixtures/lua/harness.ts";

const h = harness(3);
afterAll(() => h.engine.close());

/** Runs source and returns the first log line's arguments. */
async function eval1(source: string): Promise<unknown[]> {
  const before = h.logs.length;
  const o = await h.run(source);
  expect(o.error).toBeUndefined();
  expect(o.status).toBe("ok");
  return h.logs[before];
}

describe("a script sees only the sandbox's globals", () => {
  it("has every allowed global and library", async () => {
    const allowed = ["assert", "error", "ipairs", "next", "pairs", "pcall", "xpcall", "select", "tonumber", "tostring", "type",
      "rawequal", "rawget", "rawset", "rawlen", "setmetatable", "getmetatable", "print", "load", "string", "table", "math", "utf8", "coroutine", "core", "log"];
    const got = await eval1(`local out = {} for _, k in ipairs(${JSON.stringify(allowed).replace("[", "{").replace("]", "}")}) do out[#out+1] = type(_G[k]) end log.info(table.concat(out, ","))`);
    expect(String(got[0]).split(",")).not.toContain("nil");
    const libs = await eval1(`log.info(utf8.char(72, 105), math.floor(2.5), string.upper("x"), table.concat({1,2}, "-"))`);
    expect(libs).toEqual(["Hi", 2, "X", "1-2"]);
  });

  it("has none of the dangerous ones", async () => {
    const forbidden = ["io", "os", "debug", "package", "require", "dofile", "loadfile", "loadstring", "module", "newproxy"];
    const got = await eval1(`local out = {} for _, k in ipairs(${JSON.stringify(forbidden).replace("[", "{").replace("]", "}")}) do out[#out+1] = type(_G[k]) end log.info(table.concat(out, ","), type(string.dump))`);
    expect(got).toEqual([forbidden.map(() => "nil").join(","), "nil"]);
  });

  it("offers collectgarbage only for counting", async () => {
    const got = await eval1(`log.info(type(collectgarbage("count")), pcall(collectgarbage, "collect"))`);
    expect(got[0]).toBe("number");
    expect(got[1]).toBe(false);
  });
});

describe("escape attempts fail", () => {
  it("does not hand out the string metatable", async () => {
    const got = await eval1(`log.info(getmetatable("") == false, pcall(function() return getmetatable("").__index end))`);
    expect(got.slice(0, 2)).toEqual([true, false]);
  });

  it("load behaves as Lua 5.4's for text chunks and environments, and never loads a binary chunk", async () => {
    const got = await eval1(`
      local env = { x = 41 }
      local withEnv = load("return x + 1", "x", "t", env)
      local bt = load("return 2", "x", "bt")
      local f1, e1 = load("\\27Lua binary")
      local f2, e2 = load("\\27Lua binary", "bin", "bt")
      local f3, e3 = load("return 3", "x", "b")
      local f4, e4 = load(string.dump and "" or "\\27LuaT", "bin", "b")
      local g = load("return io, os, _G == _ENV")
      log.info(withEnv(), bt(), f1 == nil, e1, f2 == nil, e2, f3 == nil, e3, f4 == nil, e4, g())`);
    expect(got).toEqual([
      42,
      2,
      true,
      "attempt to load a binary chunk (mode is 'bt')",
      true,
      "attempt to load a binary chunk (mode is 'bt')",
      true,
      "attempt to load a text chunk (mode is 'b')",
      true,
      "attempt to load a binary chunk (mode is 'b')",
      null,
      null,
      true,
    ]);
  });

  it("cannot register finalizers that would run outside the instruction hook", async () => {
    const got = await eval1(`log.info(pcall(setmetatable, {}, { __gc = function() end }))`);
    expect(got[0]).toBe(false);
  });

  it("keeps globals from one run out of the next", async () => {
    await eval1(`leak = "secret" string.leaked = true log.info("set")`);
    const got = await eval1(`log.info(leak == nil, string.leaked == nil)`);
    expect(got).toEqual([true, true]);
  });

  it("seeds math.random per run so a run replays", async () => {
    const src = `log.info(math.random(1, 1000000), math.random(1, 1000000))`;
    const a = await eval1(src);
    const b = await eval1(src);
    expect(a).toEqual(b);
  });
});

describe("limits stop a runaway script", () => {
  it("stops `while true do end` with a Timeout that pcall cannot catch", async () => {
    const t0 = Date.now();
    const o = await h.run(`local ok = pcall(function() while true do end end) log.info("caught", ok)`, { limits: { timeoutMs: 300, memoryBytes: 32 << 20 } });
    expect(o.status).toBe("timeout");
    expect(o.error?.type).toBe("Timeout");
    expect(Date.now() - t0).toBeLessThan(2000);
  });

  it("stops a loop hidden in coroutines, xpcall and coroutine.resume", async () => {
    const o = await h.run(`
      local co = coroutine.create(function()
        while true do xpcall(function() local w = coroutine.wrap(function() while true do end end) w() end, function(e) return e end) end
      end)
      while true do coroutine.resume(co) end`, { limits: { timeoutMs: 300, memoryBytes: 32 << 20 } });
    expect(o.status).toBe("timeout");
  });

  it("fails a huge allocation cleanly and the next run still works", async () => {
    const o = await h.run(`local s = string.rep("x", 1e9) log.info(#s)`, { limits: { timeoutMs: 3000, memoryBytes: 16 << 20 } });
    expect(o.status).toBe("error");
    expect(o.error?.type).toBe("MemoryLimit");
    const got = await eval1(`log.info(#string.rep("y", 1000))`);
    expect(got).toEqual([1000]);
  });

  it("reports deep recursion as a stack overflow", async () => {
    const o = await h.run(`local function f(n) return 1 + f(n + 1) end f(1)`, { limits: { timeoutMs: 5000, memoryBytes: 256 << 20 } });
    expect(o.status).toBe("error");
    expect(o.error?.message).toMatch(/stack overflow/);
    expect(o.error?.line).toBe(1);
    // With a small memory limit the stack's memory runs out first: still a clean error.
    const small = await h.run(`local function f(n) return 1 + f(n + 1) end f(1)`, { limits: { timeoutMs: 5000, memoryBytes: 8 << 20 } });
    expect(small.error?.type).toBe("MemoryLimit");
  });

  it("terminates a script stuck inside one long C call near its limit", async () => {
    const t0 = Date.now();
    const o = await h.run(`string.find(string.rep("a", 3000), string.rep("a*", 30) .. "b")`, { limits: { timeoutMs: 400, memoryBytes: 32 << 20 } });
    const took = Date.now() - t0;
    expect(o.status).toBe("timeout");
    expect(took).toBeGreaterThanOrEqual(400);
    expect(took).toBeLessThan(2500);
    const got = await eval1(`log.info("alive")`);
    expect(got).toEqual(["alive"]);
  });

  it("keeps the host's timers firing while a script spins", async () => {
    const gaps: number[] = [];
    let last = performance.now();
    const timer = setInterval(() => {
      const now = performance.now();
      gaps.push(now - last);
      last = now;
    }, 10);
    const o = await h.run(`local x = 0 while true do x = x + 1 end`, { limits: { timeoutMs: 500, memoryBytes: 32 << 20 } });
    clearInterval(timer);
    expect(o.status).toBe("timeout");
    expect(gaps.length).toBeGreaterThan(10);
    // The spinning script is on another thread. On a shared 2-core box the OS may still delay a
    // tick now and then, so judge the typical gap, and require that no gap comes near the 500 ms
    // the script spun for (which is what blocking the host would look like).
    const sorted = [...gaps].sort((a, b) => a - b);
    expect(sorted[Math.floor(sorted.length / 2)]).toBeLessThan(50);
    expect(sorted[sorted.length - 1]).toBeLessThan(250);
  });
});
