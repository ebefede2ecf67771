import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { parseTomlDocument } from "../daemon/config/index.ts";
import { ConfigError, PermissionDenied } from "../daemon/crdt/errors.ts";
import { CapabilitySet, parseCapabilities, parseCapability } from "../daemon/scripts/capabilities/index.ts";
import { exampleSchema } from "./helpers/store-fixture.ts";

function set(...caps: string[]): CapabilitySet {
  return new CapabilitySet(caps.map(parseCapability));
}

/** The list written in a [script.x] section, so errors carry file and line. */
function fromToml(lines: string[]) {
  const src = `[script.x]\ncapabilities = [\n${lines.map((l) => `  ${JSON.stringify(l)},`).join("\n")}\n]\n`;
  const doc = parseTomlDocument("show/openprod.toml", src);
  const list = (doc.data.script as { x: { capabilities: string[] } }).x.capabilities;
  return { doc, list, path: ["script", "x", "capabilities"] };
}

describe("every capability of the spec is understood", () => {
  it("parses each form", () => {
    const kinds = [
      "net.osc:8000",
      "net.osc:8000-8010",
      "net.osc:8000,8002,9000-9001",
      "net.http.client",
      "net.http.server:3000",
      "net.midi",
      "fs.read:imports/*",
      "fs.write:exports/**/*.csv",
      "fs.watch:imports/*",
      "data.read:lighting.*",
      "data.write:lighting.Cue",
      "data.write:lighting.cue.number",
      "data.write:*",
      "ui.navigate",
      "ui.notify",
      "ui.dialog",
      "native.lightwright",
    ].map((s) => parseCapability(s).kind);
    expect(kinds).toEqual([
      "net.osc", "net.osc", "net.osc", "net.http.client", "net.http.server", "net.midi", "fs.read", "fs.write",
      "fs.watch", "data.read", "data.write", "data.write", "data.write", "ui.navigate", "ui.notify", "ui.dialog", "native",
    ]);
  });

  it("OSC port lists allow exactly the listed ports and ranges", () => {
    const caps = set("net.osc:8000,8002,9000-9001");
    expect([7999, 8000, 8001, 8002, 8999, 9000, 9001, 9002].map((p) => caps.oscPort(p))).toEqual([
      false, true, false, true, false, true, true, false,
    ]);
    expect(set("net.http.server:3000").httpServerPort(3000)).toBe(true);
    expect(set("net.http.server:3000").httpServerPort(3001)).toBe(false);
  });

  it("has() answers for plain, native and argument capabilities", () => {
    const caps = set("ui.notify", "native.lightwright", "fs.read:*.lw6");
    expect(caps.has("ui.notify")).toBe(true);
    expect(caps.has("ui.dialog")).toBe(false);
    expect(caps.has("native.lightwright")).toBe(true);
    expect(caps.has("native.other")).toBe(false);
    expect(caps.has("fs.read")).toBe(true);
    expect(caps.has("fs.write")).toBe(false);
  });
});

describe("a malformed or unknown capability stops the load naming file, line and what was expected", () => {
  const cases: [string, string][] = [
    ["osc:8000", 'unknown capability (did you mean "net.osc"?)'],
    ["net.osc", '"net.osc" needs an argument, e.g. "net.osc:8000-8010"'],
    ["net.osc:80000", "80000 is not a port (1-65535)"],
    ["net.osc:9000-8000", "runs backwards"],
    ["net.osc:abc", '"abc" is not a port or a range'],
    ["ui.notify:all", '"ui.notify" takes no argument'],
    ["fs.read:/etc/passwd", "it is absolute"],
    ["fs.write:imports/../../secrets", 'it contains ".."'],
    ["data.write:lighting", 'expected "*", "<module>.*"'],
    ["native.Light-Wright", 'expected "native.<name>"'],
  ];
  for (const [text, reason] of cases) {
    it(text, () => {
      const { doc, list, path } = fromToml(["ui.notify", text]);
      let err: unknown;
      try {
        parseCapabilities(list, { doc, path });
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(ConfigError);
      const msg = (err as ConfigError).message;
      expect(msg).toContain(`show/openprod.toml:4: [script.x] capabilities[1]: capability "${text}"`);
      expect(msg).toContain(reason);
    });
  }

  it("with the schema, data patterns must name real modules, facets and fields", async () => {
    const schema = await exampleSchema();
    const { doc, list, path } = fromToml(["data.write:lighting.cue.numbr"]);
    expect(() => parseCapabilities(list, { doc, path, schema })).toThrow(/unknown field "lighting.cue.numbr" \(did you mean "lighting.cue.number"\?\)/);
    const ok = fromToml(["data.write:lighting.Cue", "data.read:sm.*"]);
    expect(parseCapabilities(ok.list, { ...ok, schema }).toStrings()).toEqual(["data.write:lighting.Cue", "data.read:sm.*"]);
  });
});

describe("data capabilities decide which fields a script may write and read", () => {
  it("module, facet, field and everything patterns", () => {
    expect(set("data.write:lighting.*").canWrite("lighting.cue.order_index")).toBe(true);
    expect(set("data.write:lighting.*").canWrite("sm.contact.name")).toBe(false);
    expect(set("data.write:lighting.Cue").canWrite("lighting.cue.number")).toBe(true);
    expect(set("data.write:lighting.Cue").canWrite("lighting.fixture.channel")).toBe(false);
    expect(set("data.write:lighting.cue.number").canWrite("lighting.cue.number")).toBe(true);
    expect(set("data.write:lighting.cue.number").canWrite("lighting.cue.order_index")).toBe(false);
    expect(set("data.write:*").canWrite("sm.contact.email")).toBe(true);
    expect(set("ui.notify").canWrite("lighting.cue.number")).toBe(false);
  });

  it("reads are open until a data.read is declared; then only those (and what it may write)", () => {
    expect(set("ui.notify").canRead("sm.contact.email")).toBe(true);
    const caps = set("data.read:lighting.*", "data.write:sm.contact.name");
    expect(caps.canRead("lighting.cue.number")).toBe(true);
    expect(caps.canRead("sm.contact.name")).toBe(true);
    expect(caps.canRead("sm.contact.email")).toBe(false);
  });

  it("writeSet is exactly the schema's fields canWrite allows, for any mix of patterns", async () => {
    const schema = await exampleSchema();
    const keys = [...schema.fields.keys()];
    const patterns = ["*", "lighting.*", "sm.*", "lighting.Cue", "lighting.Fixture", "sm.Contact", ...keys];
    fc.assert(
      fc.property(fc.subarray(patterns, { maxLength: 4 }), (chosen) => {
        const caps = set(...chosen.map((p) => `data.write:${p}`));
        const ws = caps.writeSet(schema);
        for (const k of keys) expect(ws.has(k)).toBe(caps.canWrite(k));
      }),
      { numRuns: 200 },
    );
    expect([...set("data.write:lighting.cue.number").writeSet(schema)]).toEqual(["lighting.cue.number"]);
  });
});

describe("file capabilities are rooted at the show directory", () => {
  const caps = set("fs.read:imports/*", "fs.read:**/*.lw6", "fs.write:exports/**", "fs.watch:imports/*");
  it("globs match within and across directories", () => {
    expect(caps.fsAllowed("read", "imports/cast.csv")).toBe(true);
    expect(caps.fsAllowed("read", "./imports//cast.csv")).toBe(true);
    expect(caps.fsAllowed("read", "imports/sub/cast.csv")).toBe(false);
    expect(caps.fsAllowed("read", "show.lw6")).toBe(true);
    expect(caps.fsAllowed("read", "paperwork/v2/show.lw6")).toBe(true);
    expect(caps.fsAllowed("write", "exports/a/b.csv")).toBe(true);
    expect(caps.fsAllowed("write", "imports/cast.csv")).toBe(false);
    expect(caps.fsAllowed("watch", "imports/")).toBe(true);
    expect(caps.fsAllowed("watch", "exports/")).toBe(false);
  });
  it("absolute paths and .. are refused whatever the globs say", () => {
    const all = set("fs.read:**");
    expect(all.fsAllowed("read", "a/b.txt")).toBe(true);
    expect(all.fsAllowed("read", "/etc/passwd")).toBe(false);
    expect(all.fsAllowed("read", "imports/../../etc/passwd")).toBe(false);
    expect(all.fsAllowed("read", "C:/Windows/win.ini")).toBe(false);
    expect(all.fsAllowed("read", "a\\..\\b")).toBe(false);
  });
});

describe("a refused call names the capability that would allow it", () => {
  it("writing a field", () => {
    const caps = set("data.write:lighting.cue.number");
    expect(caps.deniedMessage({ kind: "data.write", field: "lighting.cue.order_index" })).toBe(
      'writing lighting.cue.order_index needs capability "data.write:lighting.cue.order_index" (or "data.write:lighting.*")',
    );
    const err = caps.denied({ kind: "data.write", field: "lighting.cue.order_index" }, "renumber_cues");
    expect(err).toBeInstanceOf(PermissionDenied);
    expect(err.message).toMatch(/^script "renumber_cues": writing lighting.cue.order_index needs/);
  });
  it("ports, files, plain and native capabilities", () => {
    const caps = CapabilitySet.none;
    expect(caps.allows({ kind: "net.osc", port: 9000 })).toBe(false);
    expect(caps.deniedMessage({ kind: "net.osc", port: 9000 })).toBe('using OSC port 9000 needs capability "net.osc:9000"');
    expect(caps.deniedMessage({ kind: "fs.read", path: "imports/cast.csv" })).toBe(
      'reading imports/cast.csv needs capability "fs.read:imports/cast.csv" (or "fs.read:imports/*")',
    );
    expect(caps.deniedMessage({ kind: "fs.read", path: "../x" })).toContain('reading "../x" is refused');
    expect(caps.deniedMessage({ kind: "ui.dialog" })).toBe('showing dialogs needs capability "ui.dialog"');
    expect(caps.deniedMessage({ kind: "native", name: "lightwright" })).toBe('calling lightwright needs capability "native.lightwright"');
    expect(set("ui.dialog").allows({ kind: "ui.dialog" })).toBe(true);
  });
});
