import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseScriptConfig, showScripts } from "../daemon/scripts/runtime/index.ts";
import { parseWorkspaceConfig, rawSections, parseTomlDocument } from "../daemon/config/index.ts";
import { NetworkError } from "../daemon/crdt/errors.ts";
import { CapabilitySet, parseCapability } from "../daemon/scripts/capabilities/index.ts";
import { USER, openKit } from "./fixtures/runtime-kit/kit.ts";
import type { Kit } from "./fixtures/runtime-kit/kit.ts";

let kit: Kit;
let fx: string;
beforeAll(async () => {
  kit = await openKit();
  fx = (await kit.store.apply([{ op: "CreateEntity", tables: ["lighting_fixtures"], fields: { unit_number: "E1", channel: 1 } }], USER)).results[0]?.id as string;
});
afterAll(() => kit.close());

describe("errors reach Lua as typed values that pcall catches and tostring reads", () => {
  it("EntityNotFound, FieldNotFound, InvalidOperation from core calls", async () => {
    const r = await kit.lua(
      `
      local function try(f, ...) local ok, e = pcall(f, ...) assert(not ok) return e end
      local e1 = try(core.set_field, "no-such-entity", "channel", 1)
      local e2 = try(core.set_field, args.fx, "chanel", 1)
      local e3 = try(core.set_field, args.fx, "channel", "loud")
      local e4 = try(core.get_field, "nope", "channel")
      local e5 = try(core.query, "table == 'lighting_fixtures' AND numbr == 1")
      local e6 = try(core.create_entity, { table = "no_table" })
      log.info(e1.type, e2.type, e3.type, e4.type, e5.type, e6.type)
      log.info(tostring(e2))
      log.info(tostring(e3))
    `,
      {},
      { args: { fx } },
    );
    expect(r.error).toBeUndefined();
    const lines = kit.events.filter((e) => e.type === "log" && e.runId === r.runId).map((e) => (e.type === "log" ? e.message : ""));
    expect(lines[0].split("\t")).toEqual(["EntityNotFound", "FieldNotFound", "InvalidOperation", "EntityNotFound", "InvalidOperation", "InvalidOperation"]);
    expect(lines[1]).toMatch(/^FieldNotFound: .*"chanel".*did you mean "channel"/);
    expect(lines[2]).toBe(`InvalidOperation: field lighting.fixture.channel of entity ${fx} is int: expected an integer, got the string "loud"`);
  });

  it("PermissionDenied for a field outside the script's data.write capabilities", async () => {
    const granted = new CapabilitySet([parseCapability("data.write:lighting.Cue"), parseCapability("data.read:lighting.*")]);
    const gated = await openKit({ capabilities: () => granted });
    try {
      const id = (await gated.store.apply([{ op: "CreateEntity", tables: ["lighting_fixtures"], facets: ["sm.Contact"], fields: { channel: 1, name: "x" } }], USER)).results[0]?.id as string;
      const r = await gated.lua(
        `
        local ok, e = pcall(core.set_field, args.id, "channel", 2)
        assert(not ok and e.type == "PermissionDenied", tostring(e))
        log.info(tostring(e))
        local ok2, e2 = pcall(core.get_field, args.id, "name")
        assert(not ok2 and e2.type == "PermissionDenied", tostring(e2))
        local c = core.create_entity({ table = "lighting_cues", fields = { number = 1 } })
        core.set_field(c.id, "number", 2)
      `,
        {},
        { args: { id } },
      );
      expect(r.error).toBeUndefined();
      const line = gated.events.find((e) => e.type === "log");
      expect(line?.type === "log" && line.message).toBe(`PermissionDenied: script "t1": SetField on entity ${id} writes field lighting.fixture.channel: needs capability "data.write:lighting.fixture.channel" (or "data.write:lighting.*")`);
    } finally {
      await gated.close();
    }
  });

  it("NetworkError when nobody can answer a dialog; InvalidOperation for a conflict that is not open", async () => {
    kit.onAsk = async () => {
      throw new NetworkError("no client is connected to answer the dialog", {});
    };
    const r = await kit.lua(`
      local ok, e = pcall(function() return core.await(ui.dialog.confirm("Delete?")) end)
      assert(not ok and e.type == "NetworkError" and tostring(e) == "NetworkError: no client is connected to answer the dialog", tostring(e))
      local ok2, e2 = pcall(core.resolve_conflict, "no-such-conflict", 1)
      assert(e2.type == "InvalidOperation" and tostring(e2):find("not open"), tostring(e2))
    `);
    kit.onAsk = undefined;
    expect(r.error).toBeUndefined();
  });

  it("Timeout when a run exceeds its time limit; its overlay is discarded", async () => {
    const r = await kit.lua(`core.set_field(args.fx, "channel", 3) while true do end`, { timeoutMs: 300 }, { args: { fx } });
    expect(r.status).toBe("timeout");
    expect(r.error?.type).toBe("Timeout");
    expect(r.sessionStatus).toBe("discarded");
  });
});

describe("unhandled errors follow on_error", () => {
  const script = (id: string): string => `
    core.set_field("${id}", "channel", 2)
    core.set_field("${id}", "channel", "bad")
    core.set_field("${id}", "chanel", 3)
    core.set_field("${id}", "dimmer", "1-1")
  `;

  it("skip: each failed operation is skipped and listed in the run record", async () => {
    const r = await kit.lua(script(fx), { onError: "skip" });
    expect(r.status).toBe("ok");
    expect(r.skips.map((s) => [s.binding, s.error.type])).toEqual([
      ["core.set_field", "InvalidOperation"],
      ["core.set_field", "FieldNotFound"],
    ]);
    expect(r.ops).toBe(2);
    const rec = await kit.runtime.runRecord(r.runId);
    expect(rec?.skips).toHaveLength(2);
    await kit.runtime.discardSession(r.sessionId as string);
  });

  it("abort: the run ends at the failure and its overlay is discarded", async () => {
    const r = await kit.lua(script(fx), { onError: "abort" });
    expect(r.status).toBe("error");
    expect(r.error).toMatchObject({ type: "InvalidOperation", line: 3 });
    expect(r.sessionStatus).toBe("discarded");
    expect((await kit.runtime.sessions()).find((s) => s.id === r.sessionId)).toBeUndefined();
  });

  it("prompt: a person is asked, and their answer decides", async () => {
    kit.answers.push("skip", "abort");
    const r = await kit.lua(script(fx), { onError: "prompt" });
    expect(kit.dialogs.slice(-2).map((d) => d.kind)).toEqual(["error", "error"]);
    expect(kit.dialogs.at(-2)?.message).toMatch(/core\.set_field failed: InvalidOperation/);
    expect(r.status).toBe("error");
    expect(r.error?.type).toBe("FieldNotFound");
    expect(r.skips).toHaveLength(1);
    expect(r.sessionStatus).toBe("discarded");
  });
});

describe("configuration and syntax mistakes are reported before anything runs", () => {
  const section = (body: string) => {
    const cfg = parseWorkspaceConfig("/show/openprod.toml", `[workspace]\nname = "S"\nid = "ws-1"\n\n[script.renumber]\n${body}\n`);
    return cfg.scripts.renumber;
  };

  it("reads every key, with durations and sizes", () => {
    const c = parseScriptConfig(section(`execution_mode = "autoCommit"\non_error = "prompt"\nisolation = "live"\ntimeout = "500ms"\nmemory = "64MiB"\nshutdown_timeout = "10s"\ncapabilities = ["ui.notify"]`));
    expect(c).toMatchObject({ executionMode: "autoCommit", onError: "prompt", isolation: "live", timeoutMs: 500, memoryBytes: 64 * 1024 * 1024, shutdownTimeoutMs: 10_000, capabilities: ["ui.notify"] });
    expect(parseScriptConfig(section(``))).toMatchObject({ description: "", executionMode: "session", isolation: "snapshot", timeoutMs: 30_000, shutdownTimeoutMs: 5000 });
    expect(parseScriptConfig(section(`description = "Renumbers a scene's cues"`)).description).toBe("Renumbers a scene's cues");
  });

  it("names the file, line and allowed values", () => {
    expect(() => parseScriptConfig(section(`on_error = "ignore"`))).toThrow(/openprod\.toml:6: \[script\.renumber\] on_error: must be one of "skip", "abort", "prompt", got the string "ignore"/);
    expect(() => parseScriptConfig(section(`isolation = "snapshot"\nmode = "session"`))).toThrow(
      /openprod\.toml:7: \[script\.renumber\] mode: must be "manual" or "background".*write execution_mode = "session"/,
    );
    expect(() => parseScriptConfig(section(`isolation = "snapshot"\nmodde = "manual"`))).toThrow(/openprod\.toml:7: .*unknown key.*allowed keys: execution_mode, on_error/);
    expect(() => parseScriptConfig(section(`shutdown_timeout = "90s"`))).toThrow(/:6: .*shutdown_timeout: must be between 0 and 60000/);
    expect(() => parseScriptConfig(section(`timeout = 30`))).toThrow(/:6: .*timeout: expected a duration such as "500ms"/);
    expect(() => parseScriptConfig(section(`memory = "lots"`))).toThrow(/:6: .*memory: expected a size/);
    expect(() => parseScriptConfig(section(`description = 3`))).toThrow(/openprod\.toml:6: \[script\.renumber\] description: /);
    const doc = parseTomlDocument("/show/modules/x/module.toml", `[script.a]\nexecution_mode = "batch"\n`);
    expect(() => showScripts({ root: "/show", config: { scripts: {} }, modules: [{ name: "x", dir: "/show/modules/x", scripts: rawSections(doc, "script") }], readFile: async () => "" })).toThrow(
      /module\.toml:2: .*execution_mode: must be one of "session", "autoCommit"/,
    );
  });

  it("a Lua syntax error gives file, line and column, and nothing runs", async () => {
    const before = kit.events.length;
    const r = await kit.lua(`local x = 1\nlocal y = = 2\nlog.info("ran")`);
    expect(r.status).toBe("error");
    expect(r.error).toMatchObject({ type: "SyntaxError", line: 2, column: 11 });
    expect(kit.events.slice(before).some((e) => e.type === "log")).toBe(false);
    expect(await kit.runtime.check(Object.keys(kit.scripts).at(-1) as string)).toMatchObject({ line: 2, column: 11 });
  });
});

describe("every run leaves a record to audit and replay it", () => {
  it("records script, hash, args, context, heads, seed, times, outcome, ops and log", async () => {
    const heads = kit.store.heads();
    const r = await kit.lua(`log.info(math.random(1000)) core.set_field(args.fx, "channel", 5)`, {}, { args: { fx }, context: { trigger_entity: fx }, user: "sm" });
    const rec = await kit.runtime.runRecord(r.runId);
    expect(rec).toMatchObject({ runId: r.runId, status: "ok", ops: 1, args: { fx }, context: { trigger_entity: fx }, user: "sm", heads, mode: "session", sessionId: r.sessionId });
    expect(rec?.hash).toMatch(/^[0-9a-f]{64}$/);
    expect(typeof rec?.seed).toBe("number");
    expect(rec?.endedAt).toBeGreaterThanOrEqual(rec?.startedAt ?? Infinity);
    expect(rec?.log).toHaveLength(1);
    await kit.runtime.discardSession(r.sessionId as string);
  });
});
