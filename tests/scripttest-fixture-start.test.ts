// `openprod test` applies a fixture once per run and starts each test that loads it from a copy
// of that store (daemon/scripttest/fixture-start.ts). What that must not change: each it still
// starts fresh, fixture names are right, a fixture edited between runs is read again, a script's
// globals do not outlive its run, triggers fire, and ids and HLCs are those of a fresh apply.
import { mkdirSync, rmSync, writeFileSync, appendFileSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runTests, textReport, watchTests } from "../daemon/scripttest/index.ts";
import type { SuiteResult } from "../daemon/scripttest/index.ts";
import { memoryCopy, memoryPersistence } from "../daemon/crdt/index.ts";
import { copyExampleShow, writeShowFile } from "./helpers/example-show-copy.ts";

let show = "";

beforeAll(() => {
  show = copyExampleShow("openprod-fixture-start-");
  // A script that counts its runs in a global: each run must see a fresh state.
  writeFileSync(path.join(show, "workspace", "scripts", "count_runs.lua"), 'function main()\n  runs = (runs or 0) + 1\n  log.info("run " .. runs)\nend\n');
  // A script that makes a cue: ids after a cached start must be a fresh apply's.
  writeFileSync(
    path.join(show, "workspace", "scripts", "make_cue.lua"),
    'function main()\n  core.create_entity({ table = "lighting_cues", fields = { label = "new", scene = args.scene_id } })\nend\n',
  );
  appendFileSync(path.join(show, "openprod.toml"), '\n[script.make_cue]\ncapabilities = ["data.write:lighting.*"]\n');
  mkdirSync(path.join(show, "cached", "fixtures"), { recursive: true });
  const cues = ['[scenes.act1]\nname = "Act 1"\n'];
  for (let i = 1; i <= 10; i++) cues.push(`[lighting_cues.Q${i}]\nlabel = "Cue ${i}"\nnumber = ${11 - i}\norder_index = ${i}.0\nscene = "@scenes.act1"\n`);
  // The scene edges the renumber_on_reorder trigger finds its scope by.
  for (let i = 1; i <= 10; i++) cues.push(`[[edges]]\ntype = "scene"\nsource = "@lighting_cues.Q${i}"\ntarget = "@scenes.act1"\n`);
  writeFileSync(path.join(show, "cached", "fixtures", "cues.toml"), cues.join("\n"));
});
afterAll(() => rmSync(show, { recursive: true, force: true }));

function writeTest(rel: string, source: string): string {
  return writeShowFile(show, rel, source);
}

function passed(r: SuiteResult, n: number): void {
  expect(r.failed, textReport(r)).toBe(0);
  expect(r.passed, textReport(r)).toBe(n);
}

/** Test files of the cached-start tests, run together (one engine start), by file. */
const CACHED: Record<string, string> = {
  "cached/isolation_test.lua": `describe("isolation", function()
        it("writes", function()
          local fx = fixture.load("fixtures/cues.toml")
          workspace.set(fx.lighting_cues.Q1, "label", "changed")
          local run = script.run("make_cue", { scene_id = fx.scenes.act1 })
          run.session:commit()
          assert.equals(11, #workspace.query("table == 'lighting_cues'"))
        end)
        it("sees only the fixture", function()
          local fx = fixture.load("fixtures/cues.toml")
          assert.equals("Cue 1", workspace.get(fx.lighting_cues.Q1).label)
          assert.equals(10, #workspace.query("table == 'lighting_cues'"))
        end)
        it("and so does a test that loads it in before_each", function()
          local fx = fixture.load("fixtures/cues.toml")
          assert.equals("Cue 1", workspace.get(fx.lighting_cues.Q1).label)
          workspace.set(fx.lighting_cues.Q2, "label", "mine")
        end)
        it("nor what the one before wrote", function()
          local fx = fixture.load("fixtures/cues.toml")
          assert.equals("Cue 2", workspace.get(fx.lighting_cues.Q2).label)
        end)
      end)`,
  "cached/names_test.lua": `describe("names", function()
        local first
        it("a test that used its workspace before the fixture applies it itself", function()
          -- triggers.fired() opens the workspace: the fixture below is applied, not copied.
          assert.same({}, triggers.fired())
          first = fixture.load("fixtures/cues.toml")
          assert.equals("Cue 5", workspace.get(first.lighting_cues["Q5"]).label)
        end)
        it("a cached start names the same entities with the same ids", function()
          local fx = fixture.load("fixtures/cues.toml")
          assert.same(first, fx)
          for i = 1, 10 do
            local cue = workspace.get(fx.lighting_cues["Q" .. i])
            assert.equals("Cue " .. i, cue.label)
            assert.equals(11 - i, cue.number)
            assert.equals(fx.scenes.act1, cue.scene)
          end
        end)
      end)`,
  "cached/ids_test.lua": `describe("ids", function()
        local fresh
        local function made(fx)
          local run = script.run("make_cue", { scene_id = fx.scenes.act1 })
          assert.equals("ok", run.status)
          return run.session.raw[1].id
        end
        it("after a fresh apply", function()
          assert.same({}, triggers.fired())
          local fx = fixture.load("fixtures/cues.toml")
          fresh = made(fx)
          assert.truthy(fresh > fx.lighting_cues.Q10)
        end)
        it("after a cached start", function()
          local fx = fixture.load("fixtures/cues.toml")
          assert.equals(fresh, made(fx))
        end)
      end)`,
  "cached/triggers_test.lua": `describe("triggers", function()
        for i = 1, 3 do
          it("moving a cue renumbers the scene (" .. i .. ")", function()
            local fx = fixture.load("fixtures/cues.toml")
            assert.same({}, triggers.fired())
            workspace.set(fx.lighting_cues.Q10, "order_index", 0.5)
            local fired = triggers.fired()
            assert.equals(1, #fired)
            assert.equals("renumber_on_reorder", fired[1].trigger)
            assert.equals("ok", fired[1].status)
            assert.equals("SetField lighting_cues.Q10 number = 1", fired[1].session.ops[1])
          end)
        end
      end)`,
  "cached/globals_test.lua": `describe("globals", function()
        for i = 1, 2 do
          it("each run counts from scratch (" .. i .. ")", function()
            fixture.load("fixtures/cues.toml")
            for _ = 1, 2 do
              local run = script.run("count_runs")
              assert.equals("ok", run.status)
              assert.equals("run 1", run.logs[#run.logs].message)
            end
            assert.equals(nil, runs)
          end)
        end
      end)`,
};

describe("a test that starts with a fixture starts from a copy of it", () => {
  let suite: SuiteResult;
  beforeAll(async () => {
    suite = await runTests({ showDir: show, paths: Object.entries(CACHED).map(([rel, src]) => writeTest(rel, src)) });
  });
  const fileOf = (rel: string): SuiteResult => {
    const f = suite.files.find((x) => x.file === rel);
    if (!f) throw new Error(`${rel} did not run: ${textReport(suite)}`);
    const failed = f.tests.filter((t) => t.status === "fail").length;
    return { ...suite, files: [f], passed: f.tests.filter((t) => t.status === "pass").length, failed: failed + (f.error ? 1 : 0) };
  };

  it("what one it writes (a commit, a set, a new cue) is not seen by the next, which loads the same fixture", () => {
    passed(fileOf("cached/isolation_test.lua"), 4);
  });

  it("fixture names point at the fixture's entities in every test, and are the ids a fresh apply makes", () => {
    passed(fileOf("cached/names_test.lua"), 2);
  });

  it("ids a script makes after a cached start are the ones it makes after a fresh apply (they still sort after the fixture's)", () => {
    passed(fileOf("cached/ids_test.lua"), 2);
  });

  it("triggers fire in a test that started from a cached fixture, as in the first one", () => {
    passed(fileOf("cached/triggers_test.lua"), 3);
  });

  it("a script's globals do not outlive its run: not into the next run, nor the next test", () => {
    passed(fileOf("cached/globals_test.lua"), 2);
  });
});

describe("memoryCopy", () => {
  it("a copy holds what the space holds; later writes to either stay apart; an open space is not copied", async () => {
    const original = memoryPersistence();
    const p = await original();
    await p.records("test").put("k", new TextEncoder().encode("before"));
    expect(() => memoryCopy(original)).toThrow(/is open; close it first/);
    await p.close();
    const copy = memoryCopy(original);
    const c = await copy();
    expect(new TextDecoder().decode(await c.records("test").get("k"))).toBe("before");
    await c.records("test").put("k", new TextEncoder().encode("copy"));
    await c.close();
    const again = await original();
    expect(new TextDecoder().decode(await again.records("test").get("k"))).toBe("before");
    await again.close();
    expect(() => memoryCopy(async () => again)).toThrow(/not a memory space/);
  });
});

describe("a fixture edited between runs is read again", () => {
  const CHECK = `describe("edited", function()
    it("sees the fixture as the file is now", function()
      local fx = fixture.load("fixtures/edited.toml")
      local label = fixture.read("fixtures/edited.toml"):match('label = "(.-)"')
      assert.equals(label, workspace.get(fx.lighting_cues.only).label)
    end)
    it("and so does the next test (a cached start)", function()
      local fx = fixture.load("fixtures/edited.toml")
      local label = fixture.read("fixtures/edited.toml"):match('label = "(.-)"')
      assert.equals(label, workspace.get(fx.lighting_cues.only).label)
    end)
  end)`;
  const fixture = (label: string): void => writeFileSync(path.join(show, "edited", "fixtures", "edited.toml"), `[lighting_cues.only]\nlabel = "${label}"\n`);

  it("by the next openprod test, and by --watch when the file is saved", async () => {
    mkdirSync(path.join(show, "edited", "fixtures"), { recursive: true });
    fixture("first");
    const file = writeTest("edited/edited_test.lua", CHECK);
    passed(await runTests({ showDir: show, paths: [file] }), 2);
    // Same size and a new mtime, then another size: both are noticed.
    fixture("other");
    passed(await runTests({ showDir: show, paths: [file] }), 2);

    const runs: { suite: SuiteResult; changed: string[] }[] = [];
    let next: (() => void) | null = null;
    const w = watchTests({
      showDir: show,
      paths: [file],
      onRun: (suite, changed) => {
        runs.push({ suite, changed });
        next?.();
      },
      onError: (e) => {
        throw e;
      },
    });
    try {
      await w.ready;
      expect(runs).toHaveLength(1);
      passed(runs[0].suite, 2);
      const rerun = new Promise<void>((resolve) => (next = resolve));
      fixture("saved while watching");
      await rerun;
      expect(runs[1].changed.some((c) => c.endsWith("edited.toml"))).toBe(true);
      passed(runs[1].suite, 2);
    } finally {
      await w.close();
    }
  });
});
