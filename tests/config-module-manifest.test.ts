import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { ConfigError } from "../daemon/crdt/errors.ts";
import { loadModules, parseModuleManifest } from "../daemon/config/index.ts";

async function rejection(p: Promise<unknown>): Promise<ConfigError> {
  try {
    await p;
  } catch (e) {
    if (e instanceof ConfigError) return e;
    throw e;
  }
  throw new Error("expected a ConfigError");
}

function thrown(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (e) {
    if (e instanceof ConfigError) return e;
    throw e;
  }
  throw new Error("expected a ConfigError");
}

const LIGHTING = `[module.lighting]
version = "1.2.0"
description = "Lighting department"
capabilities = ["net.osc:8000-8010", "data.write:lighting.*", "ui.notify"]

[facet.Fixture]
unit_number = "string"
channel = { type = "int", description = "DMX channel" }
notes = "text"

[table.lighting_fixtures]
facets = ["Fixture"]

[edge.in_cue_list]
ordered = true

[script.lightwright_sync]
on_error = "skip"
`;

describe("a module manifest declares facets, tables and edge types", () => {
  const m = parseModuleManifest("modules/lighting/module.toml", LIGHTING, "lighting");

  it("reads the module's version, description and capabilities with their lines", () => {
    expect(m.name).toBe("lighting");
    expect(m.version).toBe("1.2.0");
    expect(m.description).toBe("Lighting department");
    expect(m.capabilities.map((c) => c.value)).toEqual(["net.osc:8000-8010", "data.write:lighting.*", "ui.notify"]);
    expect(m.capabilities.every((c) => c.line === 4)).toBe(true);
  });

  it("gives fields their full keys, in either the short or the inline-table form", () => {
    const fixture = m.facets[0];
    expect(fixture.key).toBe("lighting.Fixture");
    expect(fixture.fields.map((f) => [f.key, f.type])).toEqual([
      ["lighting.fixture.unit_number", "string"],
      ["lighting.fixture.channel", "int"],
      ["lighting.fixture.notes", "text"],
    ]);
    expect(fixture.fields[1].description).toBe("DMX channel");
  });

  it("resolves a table's own facets and reads ordered edges", () => {
    expect(m.tables).toEqual([{ module: "lighting", name: "lighting_fixtures", facets: ["lighting.Fixture"], description: "" }]);
    expect(m.edgeTypes).toEqual([{ module: "lighting", name: "in_cue_list", ordered: true, description: "" }]);
  });

  it("hands [script.*] sections on raw, with their position", () => {
    const s = m.scripts.lightwright_sync;
    expect(s.values).toEqual({ on_error: "skip" });
    expect(s.line).toBe(17);
    expect(s.path).toEqual(["script", "lightwright_sync"]);
    expect(s.doc.lineOf([...s.path, "on_error"])).toBe(18);
  });
});

describe("a mistake in module.toml is reported at its file and line", () => {
  const file = "modules/lighting/module.toml";

  it("a bad field type lists the allowed types", () => {
    const src = LIGHTING.replace('channel = { type = "int"', 'channel = { type = "integer"');
    const err = thrown(() => parseModuleManifest(file, src, "lighting"));
    expect(err.message).toBe(
      `${file}:8: [facet.Fixture] channel.type: unknown field type "integer"; the types are string, int, float, bool, ref, json, text, list`,
    );
    expect(err.details).toMatchObject({ file, line: 8 });
  });

  it("a misspelt field type gets a suggestion", () => {
    const err = thrown(() => parseModuleManifest(file, LIGHTING.replace('notes = "text"', 'notes = "txt"'), "lighting"));
    expect(err.message).toContain(`${file}:9: [facet.Fixture] notes: unknown field type "txt" (did you mean "text"?)`);
  });

  it("a module name that does not match its directory", () => {
    const err = thrown(() => parseModuleManifest("modules/lights/module.toml", LIGHTING, "lights"));
    expect(err.message).toBe(
      'modules/lights/module.toml:1: [module.lighting] module name "lighting" does not match its directory "modules/lights/"; rename one so they agree',
    );
  });

  it("an unknown key names the allowed keys and the closest one", () => {
    const err = thrown(() => parseModuleManifest(file, LIGHTING.replace("ordered = true", "orderd = true"), "lighting"));
    expect(err.message).toBe(
      `${file}:15: [edge.in_cue_list] orderd: unknown key (did you mean "ordered"?); allowed keys: ordered, description`,
    );
  });

  it("an unknown section is rejected", () => {
    const err = thrown(() => parseModuleManifest(file, `${LIGHTING}\n[tabel.x]\nfacets = []\n`, "lighting"));
    expect(err.message).toMatch(/^modules\/lighting\/module\.toml:20: unknown section \[tabel\] \(did you mean "table"\?\)/);
  });

  it("a missing version, and one that is not a version", () => {
    expect(thrown(() => parseModuleManifest(file, LIGHTING.replace('version = "1.2.0"\n', ""), "lighting")).message).toBe(
      `${file}:1: [module.lighting] version: is required (a string)`,
    );
    expect(thrown(() => parseModuleManifest(file, LIGHTING.replace('"1.2.0"', '"one"'), "lighting")).message).toBe(
      `${file}:2: [module.lighting] version: "one" is not a version like "1.2.0"`,
    );
  });

  it("a capability that is not a string is reported at its element", () => {
    const err = thrown(() => parseModuleManifest(file, LIGHTING.replace('"ui.notify"]', "42]"), "lighting"));
    expect(err.message).toBe(`${file}:4: [module.lighting] capabilities[2]: expected a string, got the integer 42`);
  });

  it("reserved field names and facets differing only in case", () => {
    expect(thrown(() => parseModuleManifest(file, LIGHTING.replace("unit_number =", "id ="), "lighting")).message).toContain(
      '[facet.Fixture] id: "id" is reserved',
    );
    const twice = `${LIGHTING}\n[facet.fixture]\nx = "int"\n`;
    expect(thrown(() => parseModuleManifest(file, twice, "lighting")).message).toContain(
      'facet "fixture" differs from facet "Fixture" only in case',
    );
  });

  it("a file without [module.<name>], or with two", () => {
    expect(thrown(() => parseModuleManifest(file, '[facet.X]\na = "int"\n', "lighting")).message).toBe(
      `${file}: missing [module.lighting] section (it names the module, its version and capabilities)`,
    );
    const two = `${LIGHTING}\n[module.other]\nversion = "1.0.0"\n`;
    expect(thrown(() => parseModuleManifest(file, two, "lighting")).message).toContain(
      "exactly one [module.<name>], found [module.lighting], [module.other]",
    );
  });
});

describe("modules of a show are loaded together", () => {
  const dirs: string[] = [];
  afterEach(() => {
    for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
  });

  function show(modules: Record<string, string>): string {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), "openprod-config-"));
    dirs.push(root);
    for (const [name, source] of Object.entries(modules)) {
      fs.mkdirSync(path.join(root, "modules", name), { recursive: true });
      fs.writeFileSync(path.join(root, "modules", name, "module.toml"), source);
    }
    return root;
  }

  const SM = `[module.sm]
version = "0.1.0"

[facet.Contact]
name = "string"

[table.contacts]
facets = ["Contact"]

[table.sm_fixtures]
facets = ["lighting.Fixture"]
`;

  it("a table may carry another module's facet", async () => {
    const { modules, schema } = await loadModules(show({ lighting: LIGHTING, sm: SM }));
    expect(modules.map((m) => m.name)).toEqual(["lighting", "sm"]);
    expect(schema.table("sm_fixtures").facets).toEqual(["lighting.Fixture"]);
    expect(schema.resolveField("channel", schema.table("sm_fixtures").facets).key).toBe("lighting.fixture.channel");
  });

  it("a table naming an unknown facet is reported at the facet's line, with a suggestion", async () => {
    const root = show({ lighting: LIGHTING, sm: SM.replace('"lighting.Fixture"', '"lighting.Fixtures"') });
    const err = await rejection(loadModules(root));
    const file = path.join(root, "modules", "sm", "module.toml");
    expect(err.message).toBe(
      `${file}:11: [table.sm_fixtures] facets[0]: unknown facet "lighting.Fixtures" (did you mean "lighting.Fixture"?); write "Facet" for this module's facets or "module.Facet" for another module's`,
    );
  });

  it("an own facet that does not exist is named as written", async () => {
    const err = await rejection(loadModules(show({ sm: SM.replace('["Contact"]', '["Contacts"]') })));
    expect(err.message).toContain('[table.contacts] facets[0]: unknown facet "Contacts" (did you mean "sm.Contact"?)');
  });

  it("two modules cannot declare the same table or edge type", async () => {
    const other = `[module.av]\nversion = "1.0.0"\n[facet.Clip]\nfile = "string"\n[table.contacts]\nfacets = ["Clip"]\n`;
    const root = show({ av: other, sm: SM });
    const err = await rejection(loadModules(root));
    expect(err.message).toBe(
      `${path.join(root, "modules", "sm", "module.toml")}:7: [table.contacts] table "contacts" is already declared by module "av" (${path.join(root, "modules", "av", "module.toml")}:5)`,
    );
    const edge = `[module.av]\nversion = "1.0.0"\n[edge.in_cue_list]\n`;
    const err2 = await rejection(loadModules(show({ av: edge, lighting: LIGHTING })));
    expect(err2.message).toMatch(/lighting\/module\.toml:14: \[edge\.in_cue_list\] edge type "in_cue_list" is already declared by module "av"/);
  });

  it("a module directory without module.toml is an error; a show without modules/ has none", async () => {
    const root = show({});
    expect((await loadModules(root)).modules).toEqual([]);
    fs.mkdirSync(path.join(root, "modules", "video"), { recursive: true });
    const err = await rejection(loadModules(root));
    expect(err.message).toContain(`${path.join(root, "modules", "video", "module.toml")}: missing`);
  });
});
