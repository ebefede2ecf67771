import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { ConfigError } from "../daemon/crdt/errors.ts";
import { checkKeys, configError, parseTomlDocument, stringList, optionalInt } from "../daemon/config/index.ts";

function thrown(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (e) {
    if (e instanceof ConfigError) return e;
    throw e;
  }
  throw new Error("expected a ConfigError");
}

describe("a TOML syntax error names the file, line and column", () => {
  it("reports where the parser stopped, without the parser's code excerpt in the message", () => {
    const src = ['[workspace]', 'name = "Show"', 'id = "ws-1"', "fsync = tru"].join("\n");
    const err = thrown(() => parseTomlDocument("show/openprod.toml", src));
    expect(err.message).toMatch(/^show\/openprod\.toml:4:\d+: \S.* in "fsync = tru"$/);
    expect(err.message).not.toContain("\n");
    expect(err.details).toMatchObject({ file: "show/openprod.toml", line: 4 });
    expect(typeof err.details.column).toBe("number");
  });

  it("an unterminated string is reported on its own line", () => {
    const err = thrown(() => parseTomlDocument("m.toml", '[module.x]\nversion = "1.0.0\n'));
    expect(err.details.line).toBe(2);
    expect(err.message).toMatch(/^m\.toml:2:\d+: \S/);
  });
});

describe("lineOf finds the line where a key is written", () => {
  const src = [
    "# comment line 1",
    "top = 1",
    "[script.renumber_cues]",
    'on_error = "skip"   # trailing comment',
    'capabilities = [',
    '  "data.write:lighting.*",',
    '  "ui.notify",',
    "]",
    'params = { scene_id = "$scope_entity_id", nested = { deep = true } }',
    '"quoted.key" = 2',
    "doc = '''",
    "[not.a.header]",
    "x = 1",
    "'''",
    'dotted.inner = "v"',
    "[facet.Fixture]",
    'channel = { type = "int",',
    '  description = "DMX channel" }',
    "[[peer.allow]]",
    'id = "a"',
    "[[peer.allow]]",
    'id = "b"',
  ].join("\n");
  const doc = parseTomlDocument("x.toml", src);

  it("for keys of a [table] and its header", () => {
    expect(doc.lineOf(["top"])).toBe(2);
    expect(doc.lineOf(["script", "renumber_cues"])).toBe(3);
    expect(doc.lineOf(["script"])).toBe(3);
    expect(doc.lineOf(["script", "renumber_cues", "on_error"])).toBe(4);
  });

  it("for each element of a multi-line list", () => {
    expect(doc.lineOf(["script", "renumber_cues", "capabilities"])).toBe(5);
    expect(doc.lineOf(["script", "renumber_cues", "capabilities", "0"])).toBe(6);
    expect(doc.lineOf(["script", "renumber_cues", "capabilities", "1"])).toBe(7);
  });

  it("for keys inside inline tables, also nested and spanning lines", () => {
    expect(doc.lineOf(["script", "renumber_cues", "params", "scene_id"])).toBe(9);
    expect(doc.lineOf(["script", "renumber_cues", "params", "nested", "deep"])).toBe(9);
    expect(doc.lineOf(["facet", "Fixture", "channel", "type"])).toBe(17);
    expect(doc.lineOf(["facet", "Fixture", "channel", "description"])).toBe(18);
  });

  it("for quoted and dotted keys, and skips what is inside multi-line strings", () => {
    expect(doc.lineOf(["script", "renumber_cues", "quoted.key"])).toBe(10);
    expect(doc.lineOf(["script", "renumber_cues", "dotted", "inner"])).toBe(15);
    expect(doc.lineOf(["not", "a", "header"])).toBeUndefined();
    expect(doc.lineOf(["script", "renumber_cues", "x"])).toBeUndefined();
  });

  it("for entries of an array of tables, by index", () => {
    expect(doc.lineOf(["peer", "allow", "0", "id"])).toBe(20);
    expect(doc.lineOf(["peer", "allow", "1", "id"])).toBe(22);
  });

  it("finds every key of generated documents at the line it was written", () => {
    const key = fc.stringMatching(/^[a-z][a-z0-9_]{0,6}$/);
    const value = fc.oneof(
      fc.integer().map(String),
      fc.string({ maxLength: 8 }).map((s) => JSON.stringify(s)),
      fc.constant('"""\nx = 1\n[y]\n"""'),
      fc.constant("[\n  1,\n  2,\n]"),
      fc.constant("{ a = 1, b = 'two' }"),
    );
    const section = fc.record({
      name: key,
      pairs: fc.uniqueArray(fc.tuple(key, value), { selector: ([k]) => k, maxLength: 4 }),
    });
    fc.assert(
      fc.property(fc.uniqueArray(section, { selector: (s) => s.name, maxLength: 5 }), (sections) => {
        const lines: string[] = [];
        const expected: [string[], number][] = [];
        for (const s of sections) {
          lines.push(`[sec.${s.name}]  # header`);
          expected.push([["sec", s.name], lines.length]);
          for (const [k, v] of s.pairs) {
            expected.push([["sec", s.name, k], lines.length + 1]);
            lines.push(...`${k} = ${v}`.split("\n"));
          }
          lines.push("");
        }
        const d = parseTomlDocument("gen.toml", lines.join("\n"));
        for (const [p, line] of expected) expect(d.lineOf(p)).toBe(line);
      }),
      { numRuns: 200 },
    );
  });
});

describe("configuration errors name the file, line, section and key", () => {
  const doc = parseTomlDocument(
    "show/openprod.toml",
    ['[script.renumber_cues]', 'on_error = "skipp"', 'capabilities = ["a", 3]', "[store]", "compact_every = 0"].join("\n"),
  );

  it("formats <file>:<line>: [section] key: reason", () => {
    const err = configError(doc, ["script", "renumber_cues", "on_error"], 'must be skip, abort or prompt');
    expect(err.message).toBe("show/openprod.toml:2: [script.renumber_cues] on_error: must be skip, abort or prompt");
    expect(err.details).toEqual({ file: "show/openprod.toml", line: 2, key: "script.renumber_cues.on_error" });
  });

  it("a missing key is reported at its section's line", () => {
    const err = configError(doc, ["script", "renumber_cues", "run_script"], "is required");
    expect(err.message).toBe("show/openprod.toml:1: [script.renumber_cues] run_script: is required");
  });

  it("a bad list element is reported at the element, by index", () => {
    const err = thrown(() => stringList(doc, ["script", "renumber_cues"], {
      capabilities: ["a", 3],
    }, "capabilities"));
    expect(err.message).toBe(
      "show/openprod.toml:3: [script.renumber_cues] capabilities[1]: expected a string, got the integer 3",
    );
  });

  it("a number out of range says the limit", () => {
    const err = thrown(() => optionalInt(doc, ["store"], { compact_every: 0 }, "compact_every", 1000, 1));
    expect(err.message).toBe("show/openprod.toml:5: [store] compact_every: must be at least 1, got 0");
  });
});

describe("unknown keys are rejected with the allowed ones and a suggestion", () => {
  const doc = parseTomlDocument("x.toml", ["[store]", "fsync = true", "fsnyc = false", "[peeer]", "a = 1"].join("\n"));

  it("names the key, its line, the closest allowed key and the full list", () => {
    const table = doc.data.store as Record<string, unknown>;
    const err = thrown(() => checkKeys(doc, ["store"], table, ["fsync", "compact_every"]));
    expect(err.message).toBe(
      'x.toml:3: [store] fsnyc: unknown key (did you mean "fsync"?); allowed keys: fsync, compact_every',
    );
    expect(err.details).toMatchObject({ line: 3, key: "store.fsnyc" });
  });

  it("an unknown top-level section is called a section", () => {
    const err = thrown(() => checkKeys(doc, [], doc.data, ["workspace", "store", "peer"]));
    expect(err.message).toBe(
      'x.toml:4: unknown section [peeer] (did you mean "peer"?); allowed sections: [workspace], [store], [peer]',
    );
  });
});
