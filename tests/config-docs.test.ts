import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { buildSchema, parseModuleManifest, parseWorkspaceConfig } from "../daemon/config/index.ts";

const DOC = path.join(path.dirname(fileURLToPath(import.meta.url)), "..", "docs", "configuration.md");
const blocks = [...fs.readFileSync(DOC, "utf8").matchAll(/```toml\n([\s\S]*?)```/g)].map((m) => m[1]);

describe("the examples in docs/configuration.md are valid configuration", () => {
  it("the openprod.toml example parses", () => {
    const ws = blocks.filter((b) => b.startsWith("# openprod.toml"));
    expect(ws.length).toBe(1);
    const c = parseWorkspaceConfig("docs/openprod.toml", ws[0]);
    expect(c.workspace.name).toBe("Example Show");
    expect(Object.keys(c.triggers)).toEqual(["renumber_on_reorder"]);
  });

  it("the module.toml examples parse and build one schema together", () => {
    const mods = blocks.flatMap((b) => {
      const m = /^# module\.toml \(modules\/([a-z_0-9]+)\/module\.toml\)/.exec(b);
      return m ? [parseModuleManifest(`docs/modules/${m[1]}/module.toml`, b, m[1])] : [];
    });
    expect(mods.map((m) => m.name)).toEqual(["lighting", "sm"]);
    const schema = buildSchema(mods);
    expect(schema.resolveField("focus", ["lighting.Fixture"]).type).toBe("text");
    expect(schema.table("sm_fixtures").facets).toEqual(["lighting.Fixture"]);
  });

  it("every toml block of the document is one of those", () => {
    expect(blocks.every((b) => /^# (openprod|module)\.toml/.test(b))).toBe(true);
  });
});
