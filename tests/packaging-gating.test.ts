import { createHash } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openWireShow } from "./fixtures/packaging-wire/kit.ts";
import type { WireShow } from "./fixtures/packaging-wire/kit.ts";

const sha = (s: string): string => createHash("sha256").update(s).digest("hex");
const PROBE = `log.info(type(fs), type(ui), ui and ui.toast ~= nil, ui and ui.progress ~= nil, ui and ui.navigate ~= nil, ui and ui.dialog ~= nil, type(lightwright), type(osc))`;
const UTIL = `local M = {} function M.double(x) return x * 2 end return M`;

let show: WireShow;
beforeAll(async () => {
  show = await openWireShow({
    files: {
      "workspace/scripts/probe.lua": PROBE,
      "workspace/scripts/bare.lua": PROBE,
      "workspace/scripts/writer.lua": `
        local ok, e = pcall(core.set_field, args.fixture, "channel", 5)
        log.info(ok, e and e.type, e and e.message)
        core.set_field(args.cue, "number", 12)`,
      "workspace/scripts/reader.lua": `
        local f = core.query_one("table == 'lighting_fixtures' AND unit_number == ?", "R1")
        log.info(f.channel, f.unit_number)
        local ok, e = pcall(core.get_field, f.id, "channel")
        log.info(ok, e and e.type)`,
      "workspace/scripts/uses_util.lua": `local u = require("workspace/util") log.info(u.double(21))`,
      "workspace/modules/util.lua": UTIL,
      "notes/cue-notes.txt": "GO on the downbeat",
      "workspace/scripts/notes.lua": `log.info(core.await(fs.read("notes/cue-notes.txt")))`,
    },
    config: `
[script.probe]
capabilities = ["ui.notify", "fs.read:notes/*"]
[script.writer]
capabilities = ["data.write:lighting.cue.number"]
[script.reader]
capabilities = ["data.read:lighting.fixture.unit_number"]
[script.notes]
capabilities = ["fs.read:notes/*"]`,
  });
});
afterAll(() => show.close());

describe("a script sees only the modules its capabilities allow", () => {
  it("ui.notify gives ui.toast and ui.progress, not navigation or dialogs; fs.read gives fs; nothing else appears", async () => {
    expect((await show.run("probe")).status).toBe("ok");
    expect(show.logs("probe")).toEqual(["table\ttable\ttrue\ttrue\tfalse\tfalse\tnil\tnil"]);
  });

  it("a script with no capabilities gets no fs, no ui and no native modules", async () => {
    expect((await show.run("bare")).status).toBe("ok");
    expect(show.logs("bare")).toEqual(["nil\tnil\tnil\tnil\tnil\tnil\tnil\tnil"]);
  });

  it("a module script runs with its module's capabilities plus its own (lightwright_sync: ui, fs, osc, and no lightwright without native.lightwright)", async () => {
    show.write("modules/lighting/scripts/lightwright_sync.lua", PROBE);
    try {
      expect((await show.run("lighting/lightwright_sync")).status).toBe("ok");
      // The kit adds native.lightwright to this script's own list; ui.dialog is its own (it asks before overwriting local changes).
      expect(show.logs("lighting/lightwright_sync").at(-1)).toBe("table\ttable\ttrue\ttrue\ttrue\ttrue\ttable\ttable");
    } finally {
      show.write("modules/lighting/scripts/lightwright_sync.lua", "");
    }
  });
});

describe("data.write and data.read are held on every core call", () => {
  it("set_field on the worker's hot path refuses a field outside data.write, naming the capability", async () => {
    const r1 = await show.store.apply([{ op: "CreateEntity", tables: ["lighting_fixtures"], fields: { unit_number: "R1", channel: 1 } }], { actor: { kind: "user", name: "sm" } });
    const r2 = await show.store.apply([{ op: "CreateEntity", tables: ["lighting_cues"], fields: { number: 1 } }], { actor: { kind: "user", name: "sm" } });
    const fixture = r1.results[0]?.id as string;
    const cue = r2.results[0]?.id as string;
    const r = await show.run("writer", { args: { fixture, cue } });
    expect(r.status).toBe("ok");
    expect(show.logs("writer")).toEqual([
      `false\tPermissionDenied\tscript "writer": SetField on entity ${fixture} writes field lighting.fixture.channel: needs capability "data.write:lighting.fixture.channel" (or "data.write:lighting.*")`,
    ]);
    expect(r.ops).toBe(1);
    await show.runtime.discardSession(r.sessionId as string);
  });

  it("a script that declares data.read sees only those fields: others are absent from query rows, get_field is refused", async () => {
    const r = await show.run("reader");
    expect(r.status).toBe("ok");
    expect(show.logs("reader")).toEqual(["nil\tR1", "false\tPermissionDenied"]);
  });
});

describe("require() and files in every run, recorded with the run", () => {
  it("the run record's hash covers the script and every module it required", async () => {
    const r = await show.run("uses_util");
    expect(r.status).toBe("ok");
    expect(show.logs("uses_util")).toEqual(["42"]);
    const rec = await show.runtime.runRecord(r.runId);
    const scriptHash = sha(show.read("workspace/scripts/uses_util.lua"));
    expect(rec?.scriptHash).toBe(scriptHash);
    expect(rec?.modules).toEqual({ "workspace/modules/util.lua": sha(UTIL) });
    expect(rec?.hash).toBe(sha([scriptHash, `workspace/modules/util.lua=${sha(UTIL)}`].join("\n")));
  });

  it("every file a run reads is in its run record with its content hash and content", async () => {
    const r = await show.run("notes");
    expect(r.status).toBe("ok");
    const rec = await show.runtime.runRecord(r.runId);
    expect(rec?.inputs).toEqual([{ kind: "fs.read", value: { path: "notes/cue-notes.txt", sha256: sha("GO on the downbeat"), bytes: 18, content: "GO on the downbeat" } }]);
  });
});

describe("module scripts are read-only to users", () => {
  it("changing a module script's source is refused; a user script's is written and used by the next run", async () => {
    await expect(show.runtime.updateScriptSource("lighting/lightwright_sync", "log.info('mine')")).rejects.toMatchObject({
      code: "PermissionDenied",
      message: expect.stringContaining('module script: it ships with module "lighting" and is read-only; copy it to workspace/scripts/lightwright_sync.lua'),
    });
    await show.runtime.updateScriptSource("bare", `log.info("edited")`);
    expect(show.read("workspace/scripts/bare.lua")).toBe(`log.info("edited")`);
    await show.run("bare");
    expect(show.logs("bare").at(-1)).toBe("edited");
    await expect(show.runtime.updateScriptSource("bare", "log.info(")).rejects.toMatchObject({ code: "InvalidOperation", message: expect.stringMatching(/^workspace\/scripts\/bare\.lua:1:\d+: /) });
    expect(show.read("workspace/scripts/bare.lua")).toBe(`log.info("edited")`);
  });
});
