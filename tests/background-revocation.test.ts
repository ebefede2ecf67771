import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freeUdpPort, until } from "./fixtures/io-kit/ports.ts";
import { BG, bgKit } from "./fixtures/background-kit/kit.ts";
import type { BgKit } from "./fixtures/background-kit/kit.ts";

let kit: BgKit;
beforeAll(async () => {
  kit = await bgKit();
});
afterAll(() => kit.close());

describe("revoking a permission stops the script's running runs", () => {
  it("a session run ends with PermissionDenied, its overlay kept for review, and the user is told", async () => {
    kit.script("importer", `
      core.create_entity({ table = "lighting_cues", fields = { number = 7, label = "revoked-import" } })
      log.info("ready")
      while not context.cancelled() do core.await(core.sleep(10)) end`);
    const run = kit.runtime.run("importer");
    await until(() => kit.logs("importer").includes("ready"), 5000, "ready");
    expect(kit.runtime.revokeCapability("importer", "data.write:lighting.*")).toEqual([run.runId]);
    const r = await run.done;
    expect(r.status).toBe("error");
    expect(r.error).toMatchObject({ type: "PermissionDenied" });
    expect(r.error?.message).toMatch(/script "importer": capability "data\.write:lighting\.\*" was revoked/);
    expect(r.sessionStatus).toBe("open");
    expect((await kit.runtime.sessions()).map((s) => s.id)).toContain(r.sessionId);
    expect(kit.store.queryIds("table == 'lighting_cues' AND label == 'revoked-import'")).toEqual([]);
    expect(kit.eventsOf("script.permission_revoked")).toEqual([
      expect.objectContaining({ script: "importer", capability: "data.write:lighting.*", runs: [run.runId] }),
    ]);
    await kit.runtime.discardSession(r.sessionId as string);
  });

  it("a background script is stopped (not restarted) and later runs no longer get the module", async () => {
    const port = await freeUdpPort();
    kit.script("console_link", `
      log.info("osc=" .. type(osc))
      if args.once then return end
      local s = osc.listen(args.port, { host = "127.0.0.1" })
      while not context.cancelled() do s:recv(50) end`, { ...BG, capabilities: [`net.osc:${port}`], restart: { backoffMs: 20, maxBackoffMs: 40 } });
    await kit.runtime.startBackground("console_link", { args: { port } });
    await until(() => kit.logs("console_link").includes("osc=table"), 5000, "listening");
    kit.runtime.revokeCapability("console_link", "net.osc");
    await until(() => kit.runtime.backgroundStatus().find((s) => s.id === "console_link")?.state === "stopped", 5000, "stopped");
    await new Promise((r) => setTimeout(r, 100));
    const st = kit.runtime.backgroundStatus().find((s) => s.id === "console_link");
    expect(st).toMatchObject({ state: "stopped", restarts: 0, lastError: { type: "PermissionDenied" } });
    expect(kit.eventsOf("script.restarted").filter((e) => e.script === "console_link")).toEqual([]);

    const later = await kit.runtime.run("console_link", { args: { once: true } }).done;
    expect(later.status).toBe("ok");
    expect(kit.logs("console_link").at(-1)).toBe("osc=nil");
  });
});
