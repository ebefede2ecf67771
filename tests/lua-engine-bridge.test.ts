import { afterAll, describe, expect, it } from "vitest";
import { fileURLToPath } from "node:url";
import { EntityNotFound } from "../daemon/crdt/errors.ts";
import { LuaFloat } from "../daemon/scripts/engine/index.ts";
import type { HostBinding, HostValue } from "../daemon/scripts/engine/index.ts";
import { harness } from "./fixtures/lua/harness.ts";

const h = harness(4);
afterAll(() => h.engine.close());

const wait = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe("core.await waits for host work without blocking the worker", () => {
  it("returns async results, sleeps, and passes non-futures through", async () => {
    const bindings: Record<string, HostBinding> = {
      "host.later": { kind: "async", fn: async (a) => (await wait(5), { doubled: (a[0] as number) * 2, list: [1, "two", true] }) },
      "host.float": { kind: "sync", fn: () => new LuaFloat(2) },
    };
    const o = await h.run(`
      local r = core.await(host.later(21))
      local t0 = os_clock
      core.await(core.sleep(20))
      log.info(r.doubled, #r.list, r.list[2], core.await(7), math.type(host.float()), math.type(3))`, { bindings });
    expect(o.error).toBeUndefined();
    expect(h.logs.at(-1)).toEqual([42, 3, "two", 7, "float", "integer"]);
  });

  it("lets the first settled future win a race, marking a sleep as a timeout", async () => {
    const bindings: Record<string, HostBinding> = {
      "host.slow": { kind: "async", fn: () => new Promise((r) => setTimeout(() => r("slow"), 300)) },
      "host.fast": { kind: "async", fn: async () => "fast" },
    };
    const o = await h.run(`
      local a = core.await(core.race(host.slow(), core.sleep(10)))
      local b = core.await(core.race(core.sleep(200), host.fast()))
      log.info(a.index, a.timeout, b.index, b.value, b.timeout)`, { bindings });
    expect(o.error).toBeUndefined();
    expect(h.logs.at(-1)).toEqual([2, true, 2, "fast", null]);
  });

  it("awaits from inside the script's own coroutines", async () => {
    const o = await h.run(`
      local gen = coroutine.wrap(function()
        for i = 1, 3 do core.await(core.sleep(1)) coroutine.yield(i) end
      end)
      log.info(gen() + gen() + gen())`);
    expect(o.error).toBeUndefined();
    expect(h.logs.at(-1)).toEqual([6]);
  });

  it("resumes 50 suspended runs each with its own result", async () => {
    const gates = new Map<string, (v: HostValue) => void>();
    const bindings: Record<string, HostBinding> = {
      "host.gate": { kind: "async", fn: (a) => new Promise((r) => gates.set(String(a[0]), r)) },
    };
    const handles = Array.from({ length: 50 }, (_, i) => h.start(`local v = core.await(host.gate("g${i}")) assert(result.check(v, ${i}))`, {
      limits: { timeoutMs: 30000, memoryBytes: 16 << 20 },
      bindings: { ...bindings, "result.check": { kind: "sync", fn: (a) => a[0] === `answer-${a[1]}` } },
    }));
    const deadline = Date.now() + 20000;
    while (gates.size < 50 && Date.now() < deadline) await wait(20);
    expect(gates.size).toBe(50);
    for (const [k, resolve] of [...gates].reverse()) resolve(`answer-${k.slice(1)}`);
    const outcomes = await Promise.all(handles.map((x) => x.done));
    expect(outcomes.map((o) => o.status)).toEqual(Array(50).fill("ok"));
  }, 60000);
});

describe("host errors are typed Lua error values", () => {
  const bindings: Record<string, HostBinding> = {
    "core.get": { kind: "sync", fn: (a) => { throw new EntityNotFound(`entity ${String(a[0])} not found`, { id: a[0] }); } },
    "core.fetch": { kind: "async", fn: async () => { throw new EntityNotFound("gone", { id: "e9" }); } },
  };

  it("pcall catches them with type, message, details and a readable tostring", async () => {
    const o = await h.run(`
      local ok, err = pcall(core.get, "e1")
      local ok2, err2 = pcall(function() return core.await(core.fetch()) end)
      log.info(ok, err.type, err.message, err.details.id, tostring(err), ok2, err2.type, err2.details.id)`, { bindings });
    expect(o.error).toBeUndefined();
    expect(h.logs.at(-1)).toEqual([false, "EntityNotFound", "entity e1 not found", "e1", "EntityNotFound: entity e1 not found", false, "EntityNotFound", "e9"]);
  });

  it("ends the run with that error and its line when nobody catches it", async () => {
    const o = await h.run(`local x = 1\ncore.get("e2")`, { bindings });
    expect(o.status).toBe("error");
    expect(o.error).toMatchObject({ type: "EntityNotFound", message: "entity e2 not found", file: "test.lua", line: 2 });
  });

  it("reports a Lua runtime error as ScriptError with file and line", async () => {
    const o = await h.run(`local t = nil\n\nreturn t.x`);
    expect(o.error).toMatchObject({ type: "ScriptError", file: "test.lua", line: 3 });
    expect(o.error?.message).toMatch(/attempt to index a nil value/);
    expect(o.error?.traceback).toMatch(/test.lua:3/);
  });

  it("lets a prelude raise typed errors with the engine's constructor", async () => {
    const o = await h.run(`local ok, e = pcall(core.check, -1) log.info(e.type, tostring(e)) core.check(-2)`, {
      preludeLua: `local engine = ...
        core.check = function(n) if n < 0 then engine.raise("InvalidOperation", "negative: " .. n, { n = n }) end return n end`,
    });
    expect(h.logs.at(-1)).toEqual(["InvalidOperation", "InvalidOperation: negative: -1"]);
    expect(o.error).toMatchObject({ type: "InvalidOperation", message: "negative: -2", details: { n: -2 }, line: 1 });
  });
});

describe("an unhandled failure of a guarded binding follows on_error", () => {
  const fail: HostBinding = { kind: "sync", guarded: true, fn: () => { throw new EntityNotFound("no such cue", { id: "c1" }); } };

  it("skips: the call returns nil, the run goes on and records the skip", async () => {
    const asked: string[] = [];
    const o = await h.run(`local v = core.set("c1") log.info("after", v == nil)`, {
      bindings: { "core.set": fail },
      onUnhandledError: async (err, binding) => (asked.push(`${binding}:${err.type}`), "skip" as const),
    });
    expect(o.status).toBe("ok");
    expect(asked).toEqual(["core.set:EntityNotFound"]);
    expect(o.skips).toEqual([{ binding: "core.set", error: expect.objectContaining({ type: "EntityNotFound" }) }]);
    expect(h.logs.at(-1)).toEqual(["after", true]);
  });

  it("aborts: the run ends with the error", async () => {
    const o = await h.run(`core.set("c1") log.info("unreachable")`, { bindings: { "core.set": fail }, onUnhandledError: () => "abort" });
    expect(o.status).toBe("error");
    expect(o.error?.type).toBe("EntityNotFound");
  });

  it("is not consulted inside pcall, even through a coroutine.wrap", async () => {
    let asked = 0;
    const o = await h.run(`
      local ok = pcall(function() local w = coroutine.wrap(function() core.set("c1") end) w() end)
      log.info("caught", ok)`, { bindings: { "core.set": fail }, onUnhandledError: () => (asked++, "skip" as const) });
    expect(o.status).toBe("ok");
    expect(asked).toBe(0);
    expect(h.logs.at(-1)).toEqual(["caught", false]);
  });
});

describe("syntax errors are reported before anything runs", () => {
  it("gives file, line and column from checkSyntax and from run", async () => {
    const src = `log.info("ran")\nlocal x = 1\nlocal y = = 2\n`;
    const p = await h.engine.checkSyntax(src, "cues.lua");
    expect(p).toMatchObject({ type: "SyntaxError", file: "cues.lua", line: 3, column: 11 });
    expect(p?.message).toMatch(/unexpected symbol near '='/);
    expect(await h.engine.checkSyntax("return 1", "ok.lua")).toBeNull();
    const before = h.logs.length;
    const o = await h.run(src, { chunkName: "cues.lua" });
    expect(o.error).toMatchObject({ type: "SyntaxError", file: "cues.lua", line: 3, column: 11 });
    expect(h.logs.length).toBe(before);
  });
});

describe("main, on_shutdown, cancel and kill", () => {
  it("runs top-level code as main when there is no main()", async () => {
    const o = await h.run(`log.info("top")`);
    expect(o.status).toBe("ok");
    expect(o.firstLineAt).toBeGreaterThanOrEqual(o.startedAt);
  });

  it("runs on_shutdown after main fails", async () => {
    const o = await h.run(`function main() error("boom") end function on_shutdown() log.info("cleanup") end`);
    expect(o.status).toBe("error");
    expect(o.error?.message).toBe("boom");
    expect(o.shutdown).toEqual({ ran: true, status: "ok" });
    expect(h.logs.at(-1)).toEqual(["cleanup"]);
  });

  it("on cancel, a pending await returns nil, cancelled() turns true and on_shutdown runs", async () => {
    const handle = h.start(`
      local engine_cancelled = ...
      function main()
        local v = core.await(host.never())
        log.info("woke", v == nil, context.cancelled())
      end
      function on_shutdown() log.info("shutdown") end`, {
      bindings: { "host.never": { kind: "async", fn: () => new Promise(() => undefined) } },
      preludeLua: `local engine = ... context = { cancelled = engine.cancelled }`,
    });
    await wait(200);
    handle.cancel("user pressed stop");
    const o = await handle.done;
    expect(o.status).toBe("cancelled");
    expect(o.shutdown).toEqual({ ran: true, status: "ok" });
    expect(h.logs.slice(-2)).toEqual([["woke", true, true], ["shutdown"]]);
  });

  it("gives on_shutdown its own deadline after a timeout", async () => {
    const o = await h.run(`function main() while true do end end function on_shutdown() log.info("late cleanup") while true do end end`, {
      limits: { timeoutMs: 200, memoryBytes: 32 << 20, shutdownTimeoutMs: 200 },
    });
    expect(o.status).toBe("timeout");
    expect(o.shutdown?.status).toBe("timeout");
    expect(h.logs.at(-1)).toEqual(["late cleanup"]);
  });

  it("kill stops a run hard, past pcall, without on_shutdown", async () => {
    const handle = h.start(`function main() while true do pcall(function() while true do end end) end end function on_shutdown() log.info("no") end`, {
      limits: { timeoutMs: 10000, memoryBytes: 32 << 20 },
    });
    await wait(200);
    const t0 = Date.now();
    handle.kill("operator");
    const o = await handle.done;
    expect(o.status).toBe("killed");
    expect(o.shutdown).toBeUndefined();
    expect(Date.now() - t0).toBeLessThan(1000);
  });
});

describe("worker modules and preludes extend the sandbox inside the worker", () => {
  it("defines Lua functions in the worker, calls the host, and flushes a batch at the end", async () => {
    const flushed: HostValue[][] = [];
    const o = await h.run(`
      for i = 1, 1000 do counter.add("x" .. i) end
      local n = counter.add("last")
      local d = counter.host_double(21)
      local l = core.await(counter.later(1))
      local ok, e = pcall(counter.fail)
      log.info(n, d, l, ok, e.type, e.details.count, helpers.twice(4))`, {
      workerModules: [{ path: fileURLToPath(new URL("./fixtures/lua/counter-module.ts", import.meta.url)), options: { step: 2 } }],
      preludeLua: `helpers = { twice = function(x) return 2 * x end }`,
      bindings: {
        "host.double": { kind: "sync", expose: false, fn: (a) => (a[0] as number) * 2 },
        "counter.flush": { kind: "event", expose: false, fn: (a) => void flushed.push(a) },
      },
    });
    expect(o.error).toBeUndefined();
    expect(h.logs.at(-1)).toEqual([2002, 42, 2, false, "InvalidOperation", 2002, 8]);
    expect(flushed).toHaveLength(1);
    expect(flushed[0][0]).toBe(2002);
    expect((flushed[0][1] as HostValue[]).length).toBe(1001);
  });

  it("hides host-only bindings from the script", async () => {
    const o = await h.run(`log.info(host == nil)`, { bindings: { "host.secret": { kind: "sync", expose: false, fn: () => 1 } } });
    expect(o.status).toBe("ok");
    expect(h.logs.at(-1)).toEqual([true]);
  });
});
