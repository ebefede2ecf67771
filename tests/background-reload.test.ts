import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { until } from "./fixtures/io-kit/ports.ts";
import { BG, bgKit } from "./fixtures/background-kit/kit.ts";
import type { BgKit } from "./fixtures/background-kit/kit.ts";

let kit: BgKit;
beforeAll(async () => {
  kit = await bgKit();
});
afterAll(() => kit.close());

const version = (v: string): string => `
function main()
  log.info("${v} running")
  while not context.cancelled() do core.await(core.sleep(10)) end
end
function on_shutdown() log.info("${v} shutting down") end
`;

describe("editing a running background script reloads it", () => {
  it("a valid edit restarts the script with the new version", async () => {
    kit.script("watcher", version("v1"), BG);
    const first = await kit.runtime.startBackground("watcher");
    await until(() => kit.logs("watcher").includes("v1 running"), 5000, "v1");

    const r = await kit.runtime.reloadScript("watcher", version("v2"));
    expect(r).toEqual({ ok: true, restarted: true });
    await until(() => kit.logs("watcher").includes("v2 running"), 5000, "v2");
    expect(kit.logs("watcher")).toEqual(["v1 running", "v1 shutting down", "v2 running"]);
    const [st] = kit.runtime.backgroundStatus();
    expect(st).toMatchObject({ id: "watcher", state: "running", restarts: 1 });
    expect(st.runId).not.toBe(first.runId);
    expect(kit.eventsOf("script.reloaded")).toEqual([expect.objectContaining({ script: "watcher", restarted: true })]);
    expect(kit.eventsOf("script.restarted")).toEqual([expect.objectContaining({ script: "watcher", reason: "reload" })]);
    expect((await kit.runtime.runRecord(st.runId as string))?.hash).toBeUndefined(); // still running: no record yet
  });

  it("a broken edit keeps the old version running and says where the mistake is", async () => {
    const before = kit.runtime.backgroundStatus()[0];
    const r = await kit.runtime.reloadScript("watcher", `function main()\n  log.info("v3"\nend\n`);
    expect(r.ok).toBe(false);
    const [rejected] = kit.eventsOf("script.reload_rejected");
    expect(rejected).toMatchObject({ script: "watcher", file: "watcher.lua", line: 3 });
    expect(rejected.column).toBeGreaterThan(0);
    expect(rejected.message).toMatch(/^watcher\.lua:3:\d+: .*; the previous version keeps running$/);
    expect(kit.runtime.backgroundStatus()[0]).toMatchObject({ state: "running", runId: before.runId });
    expect(kit.logs("watcher").filter((l) => l.includes("v3"))).toEqual([]);
  });

  it("a stopped script is not started by an edit; its next start uses the new version", async () => {
    await kit.runtime.stopBackground("watcher", "user");
    expect(await kit.runtime.reloadScript("watcher", version("v4"))).toEqual({ ok: true, restarted: false });
    expect(kit.runtime.backgroundStatus()[0].state).toBe("stopped");
    await kit.runtime.startBackground("watcher");
    await until(() => kit.logs("watcher").includes("v4 running"), 5000, "v4");
  });
});
