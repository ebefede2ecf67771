import fs from "node:fs";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import type { CapabilitySet } from "../daemon/scripts/capabilities/index.ts";
import { LuaFloat } from "../daemon/scripts/engine/index.ts";
import type { HostBinding } from "../daemon/scripts/engine/index.ts";
import { createFsApi, ShowFiles } from "../daemon/scripts/fs/index.ts";
import type { ExternalInput } from "../daemon/scripts/fs/index.ts";
import { createNativeRegistry, lightwrightCapability, parseLightwrightXml } from "../daemon/scripts/native/index.ts";
import { harness } from "./fixtures/lua/harness.ts";
import { caps, merge, tempShow } from "./fixtures/packaging-show/show.ts";

const SAMPLE = fs.readFileSync(new URL("../examples/lightwright/show.lw6.xml", import.meta.url), "utf8");
const h = harness(1);
const show = tempShow({ "imports/show.lw6.xml": SAMPLE, "imports/broken.xml": "<SLData>\n  <InstrumentData>\n    <UID_1>\n  </InstrumentData>\n</SLData>" });
afterAll(async () => {
  await h.engine.close();
  show.remove();
});

const registry = createNativeRegistry([lightwrightCapability]);

async function run(source: string, granted: string[] | (() => CapabilitySet), extra: Record<string, HostBinding> = {}) {
  const capabilities = typeof granted === "function" ? granted : (() => caps(...granted));
  const inputs: ExternalInput[] = [];
  const fsApi = createFsApi({ showDir: show.dir, capabilities, record: (i) => inputs.push(i) });
  const native = registry.forRun({ files: fsApi.files, capabilities });
  const parts = merge(fsApi, native);
  const start = h.logs.length;
  const outcome = await h.run(source, { bindings: { ...parts.bindings, ...extra }, preludeLua: parts.preludeLua });
  return { outcome, logs: h.logs.slice(start), inputs };
}

describe("lightwright.parse reads a Lightwright export into fixtures", () => {
  it("gives every fixture its unit, channel, dimmer, type, position and every other column; numbers as integers, labels as text", async () => {
    const { outcome, logs, inputs } = await run(`
      local lw = core.await(lightwright.parse("imports/show.lw6.xml"))
      local f = lw.fixtures[1]
      log.info(#lw.fixtures, f.unit_number, f.channel, math.type(f.channel), f.dimmer, f.instrument_type, f.position)
      log.info(f.wattage, f.color, f.purpose, f.circuit_number, f.uid, f.device_type, math.type(f.x_location_mm), f.z_location_mm)
      log.info(f.accessories[1].instrument_type, lw.fixtures[4].dimmer, lw.fixtures[11].gobo, lw.fixtures[18].gobo, lw.source.action, lw.columns[1].key, lw.columns[1].label)`, ["fs.read:imports/*", "native.lightwright"]);
    expect(outcome.error).toBeUndefined();
    expect(logs).toEqual([
      // Unit numbers and dimmers are labels to match on (text); channels are numbers.
      [40, "1", 1, "integer", "100", "ETC Source Four 19deg", "FOH Truss"],
      ["750W", "R02", "Area 1 Warm", "01", "1600.1.1.0.1", "Light", "float", 7620.5],
      // An LED unit has no dimmer; a Rosco gobo number with a leading zero stays text.
      ["Top Hat 6in", null, "00123", "R78172", "Entire Plot", "unit_number", "Unit Number"],
    ]);
    expect(inputs).toEqual([{ kind: "fs.read", data: expect.objectContaining({ path: "imports/show.lw6.xml", bytes: Buffer.byteLength(SAMPLE) }) }]);
  });

  it("names the file, line and column of XML that is not well formed", async () => {
    const { logs } = await run(`local ok, e = pcall(function() return core.await(lightwright.parse("imports/broken.xml")) end) log.info(e.type, e.message)`, ["fs.read:imports/*", "native.lightwright"]);
    expect(logs[0][0]).toBe("InvalidOperation");
    expect(logs[0][1]).toMatch(/^lightwright\.parse\("imports\/broken\.xml"\): not well-formed XML at line 4, column \d+: /);
  });
});

describe("lightwright.write writes an export Lightwright reads back", () => {
  it("round-trips the sample after an edit made in Lua", async () => {
    const { outcome } = await run(`
      local lw = core.await(lightwright.parse("imports/show.lw6.xml"))
      lw.fixtures[1].channel = 101
      lw.fixtures[2].purpose = "Area 2 Warm & Bright <DS>"
      core.await(lightwright.write("exports/show.lw6.xml", lw))`, ["fs.read:imports/*", "fs.write:exports/*", "native.lightwright"]);
    expect(outcome.error).toBeUndefined();
    // Lua hands whole floats (9150.0) back as plain numbers, so compare values, not float-ness.
    const plain = (v: unknown): unknown => JSON.parse(JSON.stringify(v, (_k, x: unknown) => (x instanceof LuaFloat ? x.value : x)));
    const before = plain(parseLightwrightXml(SAMPLE, "sample")) as { fixtures: Record<string, unknown>[]; columns: unknown; source: unknown };
    const after = plain(parseLightwrightXml(show.read("exports/show.lw6.xml"), "written")) as typeof before;
    before.fixtures[0].channel = 101;
    before.fixtures[1].purpose = "Area 2 Warm & Bright <DS>";
    expect(after.fixtures).toEqual(before.fixtures);
    expect(after.columns).toEqual(before.columns);
    expect(after.source).toEqual(before.source);
  });

  it("checks the destination like fs.write", async () => {
    const { logs } = await run(`local ok, e = pcall(function() return core.await(lightwright.write("imports/x.xml", { fixtures = {} })) end) log.info(e.type, e.message)`, ["fs.read:imports/*", "native.lightwright"]);
    expect(logs).toEqual([["PermissionDenied", 'writing imports/x.xml needs capability "fs.write:imports/x.xml" (or "fs.write:imports/*")']]);
    expect(fs.existsSync(path.join(show.dir, "imports/x.xml"))).toBe(false);
  });
});

describe("a native capability is a global only for scripts granted it", () => {
  it("is absent without native.lightwright, and refuses once revoked mid-run", async () => {
    const absent = await run(`log.info(lightwright == nil)`, ["fs.read:imports/*"]);
    expect(absent.logs).toEqual([[true]]);
    let current = caps("fs.read:imports/*", "native.lightwright");
    const revoke: HostBinding = { kind: "sync", fn: () => ((current = caps("fs.read:imports/*")), null) };
    const revoked = await run(`
      local lw = core.await(lightwright.parse("imports/show.lw6.xml"))
      test.revoke()
      local ok, e = pcall(function() return core.await(lightwright.parse("imports/show.lw6.xml")) end)
      log.info(#lw.fixtures, e.type, e.message)`, () => current, { "test.revoke": revoke });
    expect(revoked.outcome.error).toBeUndefined();
    expect(revoked.logs).toEqual([[40, "PermissionDenied", 'calling lightwright needs capability "native.lightwright"']]);
  });

  it("rejects names that are not lower-case identifiers or that shadow built-in globals", () => {
    const r = createNativeRegistry();
    expect(() => r.registerNativeCapability({ name: "fs", bindings: () => ({}) })).toThrow('native capability "fs": "fs" is a built-in global');
    expect(() => r.registerNativeCapability({ name: "Light-Wright", bindings: () => ({}) })).toThrow(/lower case letters/);
    r.registerNativeCapability(lightwrightCapability);
    expect(() => r.registerNativeCapability(lightwrightCapability)).toThrow('native capability "lightwright" is already registered');
    expect(r.names()).toEqual(["lightwright"]);
    const files = new ShowFiles({ showDir: show.dir, capabilities: caps() });
    expect(r.forRun({ files, capabilities: () => caps() }).bindings).toEqual({});
  });
});
