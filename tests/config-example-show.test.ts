import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { LuaFactory } from "wasmoon";
import { loadShow } from "../daemon/config/index.ts";
import { specBlocks, specExample } from "./fixtures/spec-examples.ts";

const EXAMPLE = path.join(path.dirname(fileURLToPath(import.meta.url)), "..", "examples", "show");

describe("the example show loads as a working workspace", async () => {
  const show = await loadShow(EXAMPLE);

  it("names the workspace and listens on loopback only", () => {
    expect(show.config.workspace.name).toBe("Example Show");
    expect(show.config.workspace.id).toMatch(/^ws-/);
    expect(show.config.peer?.values.listen).toEqual(["/ip4/127.0.0.1/tcp/4101"]);
    expect(show.config.peer?.values.mdns).toBe(false);
  });

  it("its schema resolves fields through facets and tables", () => {
    const { schema } = show;
    expect(schema.resolveField("channel", ["lighting.Fixture"]).key).toBe("lighting.fixture.channel");
    expect(schema.resolveField("scene", schema.table("lighting_cues").facets).type).toBe("ref");
    expect(schema.resolveField("name", schema.table("contacts").facets).key).toBe("sm.contact.name");
    expect(schema.table("sm_fixtures").facets).toEqual(["lighting.Fixture"]);
    expect(schema.edgeType("in_cue_list").ordered).toBe(true);
    expect(schema.edgeType("scene").ordered).toBe(false);
    expect([...schema.tables.keys()].sort()).toEqual(["contacts", "lighting_cues", "lighting_fixtures", "scenes", "sm_fixtures"]);
  });

  it("every trigger watches a declared field, scopes by a declared edge and runs a configured script", () => {
    const { triggers, scripts } = show.config;
    expect(Object.keys(triggers).sort()).toEqual(["cue_started", "renumber_on_reorder"]);
    for (const t of Object.values(triggers)) {
      expect(show.schema.fields.has(String(t.values.on_field_change))).toBe(true);
      if (t.values.scope !== undefined) expect(show.schema.edgeTypes.has(String(t.values.scope))).toBe(true);
      expect(Object.keys(scripts)).toContain(t.values.run_script);
    }
  });

  it("every configured script has its Lua file", () => {
    for (const name of Object.keys(show.config.scripts)) {
      expect(fs.existsSync(path.join(show.dir.workspaceScripts, `${name}.lua`))).toBe(true);
    }
    for (const m of show.modules) {
      for (const name of Object.keys(m.scripts)) {
        expect(fs.existsSync(path.join(m.dir, "scripts", `${name}.lua`))).toBe(true);
      }
    }
  });
});

describe("the example show's Lua files", () => {
  const luaFiles = listLua(EXAMPLE);

  it("compile as Lua 5.4", async () => {
    // Eleven scripts and exports, and the tests `openprod test` runs on them (workspace/tests/ and modules/lighting/tests/).
    expect(luaFiles.filter((f) => !f.endsWith("_test.lua")).length).toBe(11);
    expect(luaFiles.filter((f) => f.endsWith("_test.lua")).length).toBe(12);
    const lua = await new LuaFactory().createEngine();
    try {
      for (const file of luaFiles) {
        lua.global.set("source", fs.readFileSync(file, "utf8"));
        lua.global.set("chunkname", `=${path.relative(EXAMPLE, file)}`);
        const result: unknown = await lua.doString("local f, err = load(source, chunkname, 't') return err");
        expect(result ?? null, file).toBeNull();
      }
    } finally {
      lua.global.close();
    }
  });

  it("are the Scripts Specification's examples, verbatim, except where a show needs more, which the file says", () => {
    const blocks = specBlocks();
    for (const rel of ["workspace/scripts/renumber_cues.lua", "modules/lighting/exports/helpers.lua"]) {
      expect(blocks, rel).toContain(fs.readFileSync(path.join(EXAMPLE, rel), "utf8"));
    }
    // These grew (string cue numbers, loopback, kept local changes); the spec's own text is run unchanged by
    // background-osc-listener.test.ts and packaging-lightwright-sync.test.ts, from tests/fixtures.
    for (const rel of ["modules/lighting/scripts/osc_listener.lua", "modules/lighting/scripts/lightwright_sync.lua"]) {
      const shipped = fs.readFileSync(path.join(EXAMPLE, rel), "utf8");
      const spec = specExample(rel);
      expect(shipped, rel).not.toBe(spec);
      expect(shipped.split("\n")[0], rel).toBe(spec.split("\n")[0]);
      expect(shipped, rel).toContain("The Scripts Specification's example, grown for a show");
    }
  });
});

function listLua(dir: string): string[] {
  return fs
    .readdirSync(dir, { recursive: true, encoding: "utf8" })
    .filter((f) => f.endsWith(".lua"))
    .sort()
    .map((f) => path.join(dir, f));
}
