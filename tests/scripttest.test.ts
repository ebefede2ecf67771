// `openprod test`: *_test.lua files run in the real Lua engine and script runtime against
// scratch workspaces (real LevelDB in temp dirs), through the CLI binary and the runner API.
import { spawn } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync, appendFileSync } from "node:fs";
import path from "node:path";
import { XMLParser, XMLValidator } from "fast-xml-parser";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { jsonReport, runTests, tapReport } from "../daemon/scripttest/index.ts";
import type { SuiteResult } from "../daemon/scripttest/index.ts";
import { copyExampleShow, writeShowFile } from "./helpers/example-show-copy.ts";
import { expectAllPass } from "./helpers/suite-results.ts";

const ROOT = path.resolve(import.meta.dirname, "..");
let show = "";

beforeAll(() => {
  show = copyExampleShow("openprod-scripttest-");
  // A script that asks before it writes, for the simulated dialogs.
  writeFileSync(
    path.join(show, "workspace", "scripts", "clear_labels.lua"),
    [
      "function main()",
      "  local cues = core.query(\"table == 'lighting_cues' ORDER BY order_index\")",
      "  local yes = core.await(ui.dialog.confirm(\"Clear \" .. #cues .. \" labels?\"))",
      "  if not yes then ui.toast(\"kept\") return end",
      "  for _, c in ipairs(cues) do core.set_field(c.id, \"label\", \"\") end",
      "end",
    ].join("\n"),
  );
  writeFileSync(path.join(show, "workspace", "scripts", "sneaky.lua"), 'function main() core.set_field(args.cue, "label", "mine") end\n');
  appendFileSync(
    path.join(show, "openprod.toml"),
    '\n[script.clear_labels]\ncapabilities = ["data.write:lighting.cue.label", "ui.dialog", "ui.notify"]\n' +
      '\n[script.sneaky]\nexecution_mode = "autoCommit"\ncapabilities = ["data.write:lighting.cue.number"]\n',
  );
  mkdirSync(path.join(show, "more"), { recursive: true });
});
afterAll(() => rmSync(show, { recursive: true, force: true }));

function writeTest(rel: string, source: string): string {
  return writeShowFile(show, rel, source);
}

function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [path.join(ROOT, "bin", "openprod.js"), ...args], { cwd: show, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}

/** TAP version 13 as a consumer reads it: the plan and each test point. */
function parseTap(text: string): { plan: number; points: { ok: boolean; n: number; name: string }[] } {
  const lines = text.split("\n");
  expect(lines[0]).toBe("TAP version 13");
  const plan = /^1\.\.(\d+)$/.exec(lines[1] ?? "");
  expect(plan).not.toBeNull();
  const points = lines.flatMap((l) => {
    const m = /^(ok|not ok) (\d+) - (.*)$/.exec(l);
    return m ? [{ ok: m[1] === "ok", n: Number(m[2]), name: m[3] }] : [];
  });
  return { plan: Number(plan?.[1]), points };
}

const FAILING = `describe("a failing file", function()
  it("passes", function() assert.equals(1, 1) end)
  it("compares wrongly", function()
    assert.equals(2, 1 + 2)
  end)
  it("breaks", function()
    local cue = nil
    return cue.number
  end)
end)
`;

describe("openprod test runs the show's tests through the CLI", () => {
  it("the example show's tests pass, as TAP, exit 0, and the show's own store is never opened", async () => {
    const r = await cli(["test", "--reporter", "tap"]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    const tap = parseTap(r.stdout);
    expect(tap.points.length).toBe(tap.plan);
    expect(tap.plan).toBeGreaterThanOrEqual(4);
    expect(tap.points.every((p) => p.ok)).toBe(true);
    expect(tap.points.map((p) => p.n)).toEqual(tap.points.map((_, i) => i + 1));
    expect(tap.points.some((p) => p.name.startsWith("workspace/tests/renumber_cues_test.lua: renumber_cues"))).toBe(true);
    expect(existsSync(path.join(show, ".openprod"))).toBe(false);
  });

  it("a failing test exits 1; JUnit XML is well formed and says expected, actual and file:line", async () => {
    writeTest("more/failing_test.lua", FAILING);
    const r = await cli(["test", "more/failing_test.lua", "--reporter", "junit"]);
    expect(r.code).toBe(1);
    expect(XMLValidator.validate(r.stdout)).toBe(true);
    const doc = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: "" }).parse(r.stdout) as {
      testsuites: { tests: string; failures: string; testsuite: { name: string; failures: string; errors: string; testcase: { name: string; line: string; failure?: { message: string; "#text": string }; error?: { message: string; "#text": string } }[] } };
    };
    expect(doc.testsuites.tests).toBe("3");
    expect(doc.testsuites.failures).toBe("2");
    const suite = doc.testsuites.testsuite;
    expect(suite.name).toBe("more/failing_test.lua");
    expect([suite.failures, suite.errors]).toEqual(["1", "1"]);
    const [pass, wrong, broken] = suite.testcase;
    expect(pass.failure).toBeUndefined();
    expect(wrong.failure?.message).toBe("expected values to be equal");
    expect(wrong.failure?.["#text"]).toContain("more/failing_test.lua:4: expected values to be equal");
    expect(wrong.failure?.["#text"]).toMatch(/expected: 2\s+actual: {3}3/);
    expect(broken.error?.["#text"]).toContain("more/failing_test.lua:8: attempt to index a nil value (local 'cue')");
  });

  it("readable text by default, --filter picks tests by name, a bad reporter is refused", async () => {
    const r = await cli(["test", "more/failing_test.lua", "--filter", "passes"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("a failing file\n    ✓ passes");
    expect(r.stdout).toContain("1 passed, 0 failed, 0 pending");
    const bad = await cli(["test", "--reporter", "xml"]);
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toContain("--reporter must be one of text, tap, junit, json");
  });
});

async function runOne(rel: string, source: string): Promise<SuiteResult> {
  return runTests({ showDir: show, paths: [writeTest(rel, source)] });
}

describe("a test file sees the show as it would run live, with the outside world simulated", () => {
  it("each it starts from a fresh scratch workspace", async () => {
    const s = await runOne(
      "more/fresh_test.lua",
      `describe("scratch", function()
        it("loads a fixture", function()
          local fx = fixture.load("../workspace/tests/fixtures/act1.toml")
          assert.equals(3, #workspace.query("table == 'lighting_cues'"))
          assert.truthy(fx.lighting_cues.opening)
        end)
        it("sees nothing of the previous test", function()
          assert.same({}, workspace.query("table == 'lighting_cues'"))
        end)
      end)`,
    );
    expectAllPass(s);
    expect(s.passed).toBe(2);
  });

  it("a dialog is answered by sim.dialog.answer; an unanswered one is dismissed", async () => {
    const s = await runOne(
      "more/dialog_test.lua",
      `local fx
      before_each(function() fx = fixture.load("../workspace/tests/fixtures/act1.toml") end)
      it("clears labels when the technician says yes", function()
        sim.dialog.answer("Clear 3 labels?", true)
        local run = script.run("clear_labels")
        assert.equals("ok", run.status)
        assert.equals(3, #run.session.ops)
        assert.same({ kind = "confirm", message = "Clear 3 labels?", script = "clear_labels" }, sim.dialog.asked()[1])
        assert.equals("committed", run.session:commit().status)
        assert.equals("", workspace.get(fx.lighting_cues.preset).label)
      end)
      it("keeps them when nobody answers", function()
        local run = script.run("clear_labels")
        assert.same({ { level = "info", message = "kept" } }, run.toasts)
        -- A session that made no change is closed with the run: there is nothing to review.
        assert.equals(0, run.ops)
        assert.equals("discarded", run.session.status)
        assert.equals("Preset", workspace.get(fx.lighting_cues.preset).label)
      end)`,
    );
    expectAllPass(s);
  });

  it("a script runs with its configured capabilities: a write outside them fails the run", async () => {
    const s = await runOne(
      "more/caps_test.lua",
      `it("sneaky may only write numbers", function()
        local fx = fixture.load("../workspace/tests/fixtures/act1.toml")
        local run = script.run("sneaky", { cue = fx.lighting_cues.opening })
        assert.equals("error", run.status)
        assert.equals("PermissionDenied", run.error.type)
        assert.equals("House to half", workspace.get(fx.lighting_cues.opening).label)
      end)
      it("a mode that does not exist is refused", function()
        assert.error_matches(function() script.run("renumber_cues", {}, { mode = "bogus" }) end, 'mode must be "session" or "autoCommit"')
      end)`,
    );
    expectAllPass(s);
  });

  it("bad fixtures are refused with the file and what is wrong named", async () => {
    writeTest("more/fixtures/bad_table.toml", '[lighting_cuez.Q1]\nlabel = "x"\n');
    writeTest("more/fixtures/bad_ref.toml", '[lighting_cues.Q1]\nscene = "@scenes.nowhere"\n');
    writeTest("more/fixtures/rig.json", JSON.stringify({ lighting_fixtures: { spot1: { unit_number: "1", channel: 101 } }, edges: [] }));
    const s = await runOne(
      "more/fixture_test.lua",
      `describe("fixtures", function()
        it("unknown table", function()
          assert.error_matches(function() fixture.load("fixtures/bad_table.toml") end, 'InvalidOperation: fixture fixtures/bad_table.toml: unknown table "lighting_cuez"')
        end)
        it("dangling reference", function()
          assert.error_matches(function() fixture.load("fixtures/bad_ref.toml") end, "refers to @scenes.nowhere, which the fixture does not declare")
        end)
        it("missing file", function()
          assert.error_matches(function() fixture.load("fixtures/none.toml") end, "fixture fixtures/none.toml not found")
        end)
        it("JSON works too", function()
          local fx = fixture.load("fixtures/rig.json")
          assert.equals(101, workspace.get(fx.lighting_fixtures.spot1).channel)
        end)
      end)`,
    );
    expectAllPass(s);
    expect(s.passed).toBe(4);
  });

  it("the assertions behave as busted's do, and say expected vs actual", async () => {
    const s = await runOne(
      "more/asserts_test.lua",
      `describe("assertions", function()
        it("pass", function()
          assert.equals("a", "a")
          assert.same({ 1, { x = 2 } }, { 1, { x = 2 } })
          assert.truthy(0)
          assert.falsy(nil)
          assert.has_no_error(function() return 1 end)
          assert.error_matches(function() error("boom at cue 5") end, "cue %d")
          assert(true)
        end)
        it("falsy fails", function() assert.falsy("yes") end)
        it("has_no_error fails", function() assert.has_no_error(function() error("nope", 0) end) end)
        pending("one day")
      end)`,
    );
    expect([s.passed, s.failed, s.pending]).toEqual([1, 2, 1]);
    const [, falsy, noError] = s.files[0].tests;
    expect(falsy.failure).toMatchObject({ message: "expected a falsy value", expected: "nil or false", actual: '"yes"', file: "more/asserts_test.lua", line: 11 });
    expect(noError.failure).toMatchObject({ expected: "no error", actual: '"nope"', line: 12 });
    expect(tapReport(s)).toContain("# SKIP pending");
    const json = JSON.parse(jsonReport(s)) as SuiteResult;
    expect([json.passed, json.failed, json.pending]).toEqual([1, 2, 1]);
    expect(json.files[0].tests.map((t) => t.status)).toEqual(["pass", "fail", "fail", "pending"]);
  });

  it("a file that does not compile or fails outside any it is reported with its line", async () => {
    const s = await runTests({
      showDir: show,
      paths: [writeTest("more/syntax_test.lua", "describe('x', function()\n  it('y', function() end\nend)\n"), writeTest("more/describe_test.lua", "describe('setup', function()\n  local x = nil\n  x.y = 1\nend)\n")],
    });
    expect(s.failed).toBe(2);
    const [syntaxFile, describeFile] = s.files;
    expect(describeFile.tests[0].failure?.message).toContain("describe failed: more/describe_test.lua:3: attempt to index a nil value");
    expect(syntaxFile.error).toMatchObject({ file: "more/syntax_test.lua", line: 3 });
  });
});

describe("what openprod test refuses", () => {
  it("a path that is not there, or not a test file, is named", async () => {
    await expect(runTests({ showDir: show, paths: [path.join(show, "nowhere")] })).rejects.toThrow(`no test file or folder at ${path.join(show, "nowhere")}`);
    await expect(runTests({ showDir: show, paths: [path.join(show, "openprod.toml")] })).rejects.toThrow("is not a test file (test files are named *_test.lua)");
  });
});

describe("docs/testing-scripts.md", () => {
  it("its example tests pass against the example show", async () => {
    const doc = readFileSync(path.join(ROOT, "docs", "testing-scripts.md"), "utf8");
    const block = (tag: string): string => {
      const m = new RegExp("<!-- " + tag + " -->\\n```\\w+\\n([\\s\\S]*?)```").exec(doc);
      if (!m) throw new Error(`docs/testing-scripts.md has no block marked <!-- ${tag} -->`);
      return m[1];
    };
    writeTest("more/docs/fixtures/two_cues.toml", block("fixture"));
    const s = await runOne("more/docs/renumber_docs_test.lua", block("test"));
    expectAllPass(s);
    // Beside the example show's own tests, so it finds their fixture.
    const t = await runOne("workspace/tests/docs_trigger_test.lua", block("trigger-test"));
    expectAllPass(t);
  });

  it("every block marked example-test passes beside the example show's tests (files marked file: written first)", async () => {
    const doc = readFileSync(path.join(ROOT, "docs", "testing-scripts.md"), "utf8");
    for (const m of doc.matchAll(/<!-- file: (\S+) -->\n```\w+\n([\s\S]*?)```/g)) writeTest(path.join("workspace", "tests", m[1]), m[2]);
    const blocks = [...doc.matchAll(/<!-- example-test -->\n```lua\n([\s\S]*?)```/g)].map((m) => m[1]);
    expect(blocks.length).toBeGreaterThanOrEqual(6);
    const files = blocks.map((b, i) => writeTest(`workspace/tests/docs_example_${i + 1}_test.lua`, b));
    const s = await runTests({ showDir: show, paths: files });
    expectAllPass(s);
    expect(s.files.every((f) => f.tests.length > 0)).toBe(true);
  });
});
