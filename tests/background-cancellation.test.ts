import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { until } from "./fixtures/io-kit/ports.ts";
import { BG, bgKit } from "./fixtures/background-kit/kit.ts";
import type { BgKit } from "./fixtures/background-kit/kit.ts";

// The spec's "Cancellation and bundle atomicity" table, one describe per row.
let kit: BgKit;
beforeAll(async () => {
  kit = await bgKit();
});
afterAll(() => kit.close());

const cues = (label: string): string[] => kit.store.queryIds("table == 'lighting_cues' AND label == ?", [label]);
const WAIT = `while not context.cancelled() do core.await(core.sleep(10)) end`;

async function startAndStop(name: string, source: string, config: object): Promise<NonNullable<Awaited<ReturnType<BgKit["runtime"]["runRecord"]>>>> {
  kit.script(name, source, { ...BG, ...config });
  const st = await kit.runtime.startBackground(name);
  await until(() => kit.logs(name).includes("ready"), 5000, `${name} ready`);
  await kit.runtime.stopBackground(name, "user stop");
  const rec = await kit.runtime.runRecord(st.runId as string);
  if (!rec) throw new Error("no run record");
  return rec;
}

describe("cancel during overlay mode: the overlay is discarded, nothing persists", () => {
  it("leaves no entity and no open session behind", async () => {
    const rec = await startAndStop("overlay_cancel", `
      function main()
        core.create_entity({ table = "lighting_cues", fields = { number = 101, label = "overlay-main" } })
        log.info("ready")
        ${WAIT}
      end`, { executionMode: "session" });
    expect(rec).toMatchObject({ status: "cancelled", sessionStatus: "discarded", ops: 1, bundles: 0 });
    expect(cues("overlay-main")).toEqual([]);
    expect((await kit.runtime.sessions()).filter((s) => s.runId === rec.runId)).toEqual([]);
  });
});

describe("cancel during autoCommit: completed bundles stay, nothing is half-applied", () => {
  it("keeps every bundle written before the cancel, each whole", async () => {
    const rec = await startAndStop("auto_cancel", `
      function main()
        local i = 0
        while not context.cancelled() do
          i = i + 1
          local c = core.create_entity({ table = "lighting_cues", fields = { number = 1000 + i, label = "auto" } })
          core.set_field(c.id, "status", "standby")
          if i == 3 then log.info("ready") end
          core.await(core.sleep(5))
        end
      end`, { executionMode: "autoCommit" });
    const ids = cues("auto");
    expect(rec.status).toBe("cancelled");
    expect(ids.length).toBeGreaterThanOrEqual(3);
    expect(rec.bundles).toBe(ids.length * 2);
    for (const id of ids) expect(kit.store.getField(id, "status")).toBe("standby");
  });

  it("a run killed in the middle of a burst of writes leaves only whole bundles", async () => {
    kit.script("burst", `
      for i = 1, 100000 do
        core.create_entity({ table = "lighting_cues", fields = { number = i, label = "burst", status = "standby" } })
      end`, { executionMode: "autoCommit" });
    const run = kit.runtime.run("burst");
    await until(() => cues("burst").length >= 5, 10_000, "some bundles");
    run.kill("hard stop");
    const r = await run.done;
    expect(r.status).toBe("killed");
    const ids = cues("burst");
    expect(ids.length).toBeGreaterThanOrEqual(r.bundles);
    for (const id of ids) {
      expect([typeof kit.store.getField(id, "number"), kit.store.getField(id, "status")]).toEqual(["number", "standby"]);
    }
  });
});

describe("on_shutdown() completing in time: its bundles commit", () => {
  it("commits what on_shutdown wrote even though main's overlay is discarded", async () => {
    const rec = await startAndStop("shutdown_commit", `
      function main()
        core.create_entity({ table = "lighting_cues", fields = { number = 201, label = "sd-main" } })
        log.info("ready")
        ${WAIT}
      end
      function on_shutdown()
        core.create_entity({ table = "lighting_cues", fields = { number = 202, label = "sd-cleanup", status = "stopped" } })
      end`, { executionMode: "session" });
    expect(rec.status).toBe("cancelled");
    expect(cues("sd-main")).toEqual([]);
    expect(cues("sd-cleanup")).toHaveLength(1);
    expect(rec.bundles).toBe(1);
    expect(await kit.runtime.sessions()).toEqual([]);
  });

  it("in autoCommit mode each of its writes is a bundle of its own", async () => {
    await startAndStop("shutdown_auto", `
      function main() log.info("ready") ${WAIT} end
      function on_shutdown()
        core.create_entity({ table = "lighting_cues", fields = { number = 301, label = "sd-auto" } })
      end`, { executionMode: "autoCommit" });
    expect(cues("sd-auto")).toHaveLength(1);
  });
});

describe("on_shutdown() exceeding its timeout mid-bundle: the in-flight bundle is rolled back", () => {
  it("discards what on_shutdown wrote and reports the timeout", async () => {
    const rec = await startAndStop("shutdown_late", `
      function main() log.info("ready") ${WAIT} end
      function on_shutdown()
        core.create_entity({ table = "lighting_cues", fields = { number = 401, label = "sd-late" } })
        while true do end
      end`, { executionMode: "session", shutdownTimeoutMs: 300 });
    expect(rec.status).toBe("cancelled");
    expect(cues("sd-late")).toEqual([]);
    expect(await kit.runtime.sessions()).toEqual([]);
  });

  it("the run result says on_shutdown timed out", async () => {
    kit.script("late_oneshot", `
      function main() ${WAIT} end
      function on_shutdown() while true do end end`, { shutdownTimeoutMs: 200 });
    const run = kit.runtime.run("late_oneshot");
    await new Promise((r) => setTimeout(r, 200));
    run.cancel("user");
    const r = await run.done;
    expect(r.shutdown).toMatchObject({ ran: true, status: "timeout" });
    expect(r.shutdown?.error?.message).toMatch(/late_oneshot\.lua: on_shutdown\(\) exceeded its time limit of 200 ms/);
  });
});
