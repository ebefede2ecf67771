import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { until } from "./fixtures/io-kit/ports.ts";
import { BG, bgKit } from "./fixtures/background-kit/kit.ts";
import type { BgKit } from "./fixtures/background-kit/kit.ts";

const LOOP = `
function main()
  log.info("started")
  while not context.cancelled() do
    core.await(core.sleep(20))
  end
  log.info("loop saw cancelled")
end
function on_shutdown()
  log.info("on_shutdown, cancelled=" .. tostring(context.cancelled()))
end
`;

let kit: BgKit;
beforeEach(async () => {
  kit = await bgKit({ stopGraceMs: 300 });
});
afterEach(async () => {
  await kit.close();
});

describe("a background script runs until someone stops it, then on_shutdown runs", () => {
  it("runs past its run time limit, shows in ps, stops on request", async () => {
    kit.script("listener", LOOP, { ...BG, timeoutMs: 200 });
    const st = await kit.runtime.startBackground("listener");
    expect(st).toMatchObject({ id: "listener", state: "running", restarts: 0, lastError: null });
    await until(() => kit.logs("listener").includes("started"), 5000, "start");
    await new Promise((r) => setTimeout(r, 400)); // twice its 200 ms limit
    expect(kit.runtime.backgroundStatus()).toEqual([expect.objectContaining({ id: "listener", state: "running", runId: st.runId })]);
    expect(kit.runtime.running().map((r) => r.script)).toEqual(["listener"]);

    const stopped = await kit.runtime.stopBackground("listener", "stopped by the stage manager");
    expect(stopped.state).toBe("stopped");
    expect(kit.logs("listener")).toEqual(["started", "loop saw cancelled", "on_shutdown, cancelled=true"]);
    const record = await kit.runtime.runRecord(st.runId as string);
    expect(record?.status).toBe("cancelled");
    expect(kit.eventsOf("script.state").map((e) => e.state)).toEqual(["running", "stopped"]);
  });

  it("a pending core.await returns nil as soon as the script is cancelled", async () => {
    kit.script("sleeper", `
      function main()
        log.info("waiting")
        local v = core.await(core.sleep(60000))
        log.info("await gave " .. tostring(v) .. ", cancelled=" .. tostring(context.cancelled()))
      end`, BG);
    await kit.runtime.startBackground("sleeper");
    await until(() => kit.logs("sleeper").includes("waiting"), 5000, "wait");
    const t0 = Date.now();
    await kit.runtime.stopBackground("sleeper", "user");
    expect(Date.now() - t0).toBeLessThan(2000);
    expect(kit.logs("sleeper")).toContain("await gave nil, cancelled=true");
  });

  it("a script that ignores cancellation is killed once its grace period is over", async () => {
    kit.script("stubborn", `function main() log.info("busy") while true do end end\nfunction on_shutdown() log.info("never") end`, { ...BG, shutdownTimeoutMs: 100 });
    const st = await kit.runtime.startBackground("stubborn");
    await until(() => kit.logs("stubborn").includes("busy"), 5000, "busy");
    const t0 = Date.now();
    expect((await kit.runtime.stopBackground("stubborn", "user")).state).toBe("stopped");
    expect(Date.now() - t0).toBeLessThan(3000);
    expect((await kit.runtime.runRecord(st.runId as string))?.status).toBe("killed");
    expect(kit.logs("stubborn")).toEqual(["busy"]);
  });

  it("starting a script that is not a background script says how to make it one", async () => {
    kit.script("oneshot", `log.info("x")`);
    await expect(kit.runtime.startBackground("oneshot")).rejects.toThrow(/not a background script: add mode = "background"/);
  });
});

describe("a crashed background script comes back with backoff, and the user is told", () => {
  it("restarts with doubling delays while it keeps crashing", async () => {
    kit.script("flaky", `function main()\n  log.info("up")\n  error("console unreachable")\nend`, { ...BG, restart: { backoffMs: 40, maxBackoffMs: 100 } });
    await kit.runtime.startBackground("flaky");
    await until(() => kit.eventsOf("script.restarted").length >= 3, 5000, "three restarts");
    const crashes = kit.eventsOf("script.crashed");
    expect(crashes.slice(0, 3).map((c) => c.restartInMs)).toEqual([40, 80, 100]);
    expect(crashes[0].error).toMatchObject({ type: "ScriptError", file: "flaky.lua", line: 3 });
    expect(crashes[0].error.message).toContain("console unreachable");
    expect(kit.eventsOf("script.restarted")[0]).toMatchObject({ script: "flaky", reason: "crash", restarts: 1 });

    const st = await kit.runtime.stopBackground("flaky", "enough");
    expect(st.state).toBe("stopped");
    expect(st.restarts).toBeGreaterThanOrEqual(3);
    expect(st.lastError?.message).toContain("console unreachable");
    const n = kit.eventsOf("script.restarted").length;
    await new Promise((r) => setTimeout(r, 250));
    expect(kit.eventsOf("script.restarted").length).toBe(n);
  });

  it("without a restart policy it stays crashed", async () => {
    kit.script("fragile", `function main() error("bad cue list") end`, BG);
    await kit.runtime.startBackground("fragile");
    await until(() => kit.runtime.backgroundStatus()[0]?.state === "crashed", 5000, "crash");
    expect(kit.eventsOf("script.crashed")[0]).toMatchObject({ script: "fragile", restartInMs: null });
    expect(kit.eventsOf("script.restarted")).toEqual([]);
  });
});

describe("autostart and shutdown", () => {
  it("starts the autostart scripts, and shutdown stops every run with on_shutdown", async () => {
    kit.script("auto", LOOP, { ...BG, autostart: true });
    kit.script("manual_bg", LOOP, BG);
    kit.script("oneshot", `function main() log.info("oneshot running") while not context.cancelled() do core.await(core.sleep(20)) end end\nfunction on_shutdown() log.info("oneshot cleanup") end`);
    const started = await kit.runtime.startAutostart();
    expect(started.map((s) => s.id)).toEqual(["auto"]);
    const oneshot = kit.runtime.run("oneshot");
    await until(() => kit.logs("auto").includes("started"), 5000, "autostart");
    // Both must really be running (a loaded machine may take a moment to start the one-shot).
    await until(() => kit.logs("oneshot").includes("oneshot running"), 5000, "one-shot run");

    await kit.runtime.shutdown("daemon shutting down");
    expect(kit.runtime.backgroundStatus()).toEqual([expect.objectContaining({ id: "auto", state: "stopped" })]);
    expect(kit.logs("auto")).toContain("on_shutdown, cancelled=true");
    expect((await oneshot.done).status).toBe("cancelled");
    expect(kit.logs("oneshot")).toEqual(["oneshot running", "oneshot cleanup"]);
    expect(kit.runtime.running()).toEqual([]);
    await expect(kit.runtime.startBackground("manual_bg")).rejects.toThrow(/shutting down/);
  });
});
