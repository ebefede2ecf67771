import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openWireShow } from "./fixtures/packaging-wire/kit.ts";
import type { WireShow } from "./fixtures/packaging-wire/kit.ts";

let show: WireShow;
beforeAll(async () => {
  show = await openWireShow({
    files: {
      "workspace/scripts/importer.lua": `
        core.create_entity({ table = "lighting_cues", fields = { number = 7, label = "before-revoke" } })
        log.info("waiting")
        core.await(core.sleep(20000))
        core.create_entity({ table = "lighting_cues", fields = { number = 8, label = "after-revoke" } })
        log.info("not reached")`,
    },
    config: `
[script.importer]
capabilities = ["data.write:lighting.*", "ui.notify"]`,
  });
});
afterAll(() => show.close());

describe("a capability taken away ends a running script at its next call, cleanly", () => {
  it("a script suspended in core.await ends with PermissionDenied; the error is logged, the user told, the overlay kept for review", async () => {
    const run = show.runtime.run("importer");
    const t0 = Date.now();
    for (let i = 0; i < 500 && !show.logs("importer").includes("waiting"); i++) await new Promise((r) => setTimeout(r, 10));
    expect(show.runtime.revokeCapability("importer", "data.write:lighting.*")).toEqual([run.runId]);
    const r = await run.done;
    expect(Date.now() - t0).toBeLessThan(10_000);
    expect(r.status).toBe("error");
    expect(r.error).toMatchObject({ type: "PermissionDenied", message: expect.stringContaining('capability "data.write:lighting.*" was revoked') });
    expect(show.logs("importer")).not.toContain("not reached");
    expect(show.logs("importer").some((l) => l.includes('was revoked while it ran') && l.includes("data.write:lighting.*"))).toBe(true);
    expect(show.events.filter((e) => e.type === "script.permission_revoked")).toEqual([expect.objectContaining({ script: "importer", capability: "data.write:lighting.*", runs: [run.runId] })]);
    // The overlay is kept with what the script did before the revocation, and nothing reached canonical.
    expect(r.sessionStatus).toBe("open");
    const session = (await show.runtime.sessions()).find((s) => s.id === r.sessionId);
    expect(session?.ops).toEqual([expect.objectContaining({ op: "CreateEntity", fields: expect.objectContaining({ "lighting.cue.label": "before-revoke" }) })]);
    expect(show.store.queryIds("table == 'lighting_cues'")).toEqual([]);
    await show.runtime.discardSession(r.sessionId as string);
  });
});
