import fs from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LIGHTWRIGHT_XML, openWireShow } from "./fixtures/packaging-wire/kit.ts";
import type { WireShow } from "./fixtures/packaging-wire/kit.ts";
import { specExample } from "./fixtures/spec-examples.ts";

const SYNC = "lighting/lightwright_sync";
// The shipped sample, unchanged, against the example show's schema, unchanged, run by the spec's
// Lightwright Sync script as the specification prints it (the example show's own version, which
// keeps local changes, is tested by packaging-lightwright-keep.test.ts).
const XML = fs.readFileSync(LIGHTWRIGHT_XML, "utf8");
const SPEC_SYNC = specExample("modules/lighting/scripts/lightwright_sync.lua");
let show: WireShow;
beforeAll(async () => {
  show = await openWireShow({ files: { "show.lw6": XML, "modules/lighting/scripts/lightwright_sync.lua": SPEC_SYNC } });
});
afterAll(() => show.close());

const fixtures = (): { unit: unknown; channel: unknown; dimmer: unknown; position: unknown }[] =>
  show.store.queryIds("table == 'lighting_fixtures'").map((id) => {
    const f = show.store.getEntity(id).fields;
    return { unit: f["lighting.fixture.unit_number"], channel: f["lighting.fixture.channel"], dimmer: f["lighting.fixture.dimmer"] ?? null, position: f["lighting.fixture.position"] };
  });

async function syncAndCommit(): Promise<{ toast: string; runId: string }> {
  const before = show.events.length;
  const r = await show.run(SYNC, { args: { path: "show.lw6" } });
  expect(r.error).toBeUndefined();
  expect(r.skips).toEqual([]);
  expect(r.status).toBe("ok");
  const toasts = show.events.slice(before).flatMap((e) => (e.type === "toast" ? [e.message] : []));
  if (r.sessionStatus === "open") expect((await show.runtime.commitSession(r.sessionId as string)).status).toBe("committed");
  return { toast: toasts.at(-1) ?? "", runId: r.runId };
}

describe("the spec's Lightwright Sync script, unchanged, keeps the rig in step with the paperwork", () => {
  it("the module script is the spec's example, and runs with the module's capabilities plus native.lightwright", () => {
    expect(show.read("modules/lighting/scripts/lightwright_sync.lua")).toBe(SPEC_SYNC);
  });

  it("first run creates every fixture and says so", async () => {
    const { toast } = await syncAndCommit();
    expect(toast).toBe("Sync complete: 40 created, 0 updated, 0 unchanged");
    expect(show.logs(SYNC).at(-1)).toBe("Sync complete: 40 created, 0 updated, 0 unchanged");
    const rig = fixtures();
    expect(rig).toHaveLength(40);
    // Unit numbers and dimmers are labels (strings); channels are integers.
    expect(rig).toContainEqual({ unit: "1", channel: 1, dimmer: "100", position: "FOH Truss" });
    expect(rig).toContainEqual({ unit: "4", channel: 4, dimmer: null, position: "1st Electric" });
  });

  it("after the paperwork changes, a second run updates only what changed", async () => {
    // Unit 1 re-patched to channel 101, unit 2 to dimmer 201.
    const edited = XML.replace("<Channel>1</Channel>", "<Channel>101</Channel>").replace("<Dimmer>101</Dimmer>", "<Dimmer>201</Dimmer>");
    expect(edited).not.toBe(XML);
    show.write("show.lw6", edited);
    const { toast } = await syncAndCommit();
    expect(toast).toBe("Sync complete: 0 created, 2 updated, 38 unchanged");
    const rig = fixtures();
    expect(rig).toHaveLength(40);
    expect(rig).toContainEqual({ unit: "1", channel: 101, dimmer: "100", position: "FOH Truss" });
    expect(rig).toContainEqual({ unit: "2", channel: 2, dimmer: "201", position: "Box Boom SL" });
  });

  it("a third run with nothing changed touches nothing", async () => {
    const { toast } = await syncAndCommit();
    expect(toast).toBe("Sync complete: 0 created, 0 updated, 40 unchanged");
  });
});

describe("a recorded run replays to the same ops, whatever happened to its inputs since", () => {
  it("replaying the sync that read the paperwork gives identical ops after the file changed again", async () => {
    show.write("show.lw6", XML.replace("<Channel>2</Channel>", "<Channel>202</Channel>"));
    const r = await show.run(SYNC, { args: { path: "show.lw6" } });
    expect(r.status).toBe("ok");
    const record = await show.runtime.runRecord(r.runId);
    expect(record?.inputs[0]).toMatchObject({ kind: "fs.read", value: { path: "show.lw6", sha256: expect.stringMatching(/^[0-9a-f]{64}$/) } });
    expect(record?.opsCount).toBe(r.ops);
    await show.runtime.commitSession(r.sessionId as string);

    // The file changes again and canonical moves on: the replay still reads what the run read, at its heads.
    show.write("show.lw6", XML.replace("<Channel>3</Channel>", "<Channel>303</Channel>"));
    const sessionsBefore = (await show.runtime.sessions()).length;
    const canonBefore = show.store.heads();
    const replay = await show.runtime.replay(r.runId);
    expect(replay).toMatchObject({ runId: r.runId, same: true, status: "ok", warnings: [] });
    expect(replay.replayedOps).toBe(r.ops);
    expect(replay.replayedOps).toBeGreaterThan(0);
    // Scratch only: nothing committed, no session left behind.
    expect(show.store.heads()).toEqual(canonBefore);
    expect((await show.runtime.sessions()).length).toBe(sessionsBefore);
    expect((await show.runtime.runRecord(replay.replayRunId))?.replayOf).toBe(r.runId);
  });
});
