// openprod test's simulated world: virtual time for core.sleep, OSC/MIDI/HTTP/files and
// another peer, spies, CSV fixtures, and --watch, through the runner and the real CLI binary.
import { spawn } from "node:child_process";
import { existsSync, rmSync, writeFileSync, appendFileSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runTests, textReport } from "../daemon/scripttest/index.ts";
import type { SuiteResult } from "../daemon/scripttest/index.ts";
import { copyExampleShow, writeShowFile } from "./helpers/example-show-copy.ts";
import { expectAllPass, failures } from "./helpers/suite-results.ts";

const ROOT = path.resolve(import.meta.dirname, "..");
let show = "";

beforeAll(() => {
  show = copyExampleShow("openprod-scripttest-sim-");
  writeFileSync(path.join(show, "workspace", "scripts", "sleepy.lua"), "function main()\n  for i = 1, 3 do core.await(core.sleep(60000)); log.info('tick ' .. i) end\nend\n");
  writeFileSync(path.join(show, "workspace", "scripts", "writes_file.lua"), 'function main() core.await(fs.write("imports/out.txt", "from the script")) end\n');
  appendFileSync(path.join(show, "openprod.toml"), '\n[script.sleepy]\ncapabilities = []\n\n[script.writes_file]\ncapabilities = ["fs.write:imports/**"]\n');
});
afterAll(() => rmSync(show, { recursive: true, force: true }));

function writeTest(rel: string, source: string): string {
  return writeShowFile(show, rel, source);
}

async function runOne(rel: string, source: string): Promise<SuiteResult> {
  return runTests({ showDir: show, paths: [writeTest(rel, source)] });
}


describe("virtual time", () => {
  it("a run's sleeps elapse at once while the test waits for it; clock.advance wakes started runs in order", async () => {
    const s = await runOne(
      "more/time_test.lua",
      `describe("time", function()
        it("three minutes of sleeps take none", function()
          local t0 = clock.now()
          local run = script.run("sleepy")
          assert.equals("ok", run.status)
          assert.equals(3, #run.logs)
          assert.equals(t0 + 180000, clock.now())
        end)
        it("a started run sleeps until the clock is advanced", function()
          local h = script.start("sleepy")
          assert.equals(1, clock.sleeping())
          clock.advance(59999)
          assert.equals(1, clock.sleeping())
          clock.advance(120001)
          local out = h:wait()
          assert.same({ "tick 1", "tick 2", "tick 3" }, { out.logs[1].message, out.logs[2].message, out.logs[3].message })
        end)
        it("clock.advance refuses a negative duration", function()
          assert.error_matches(function() clock.advance(-1) end, "clock.advance needs a duration")
        end)
      end)`,
    );
    expectAllPass(s);
  });
});

describe("the simulated world", () => {
  it("OSC to a port nobody listens on, and an unanswered HTTP request, fail with what is wrong named", async () => {
    const s = await runOne(
      "more/world_errors_test.lua",
      `it("osc", function() sim.osc.send(8005, "/cue/fire", { 1 }) end)
       it("http", function()
         local run = script.run("console_check", { url = "http://console.local/api/cue" })
         assert.equals("ok", run.status, run.error and run.error.message)
       end)
       it("midi", function() sim.midi.input("Nobody"):note_on(1, 60, 100) end)
       it("a bad note", function() sim.midi.input("X"):note_on(17, 60, 100) end)`,
    );
    const f = failures(s);
    expect(f[0]).toContain("no script listens on OSC port 8005");
    expect(f[1]).toContain("no sim.http.respond matches it");
    expect(f[2]).toContain('sim.midi.input("Nobody"): no script has that MIDI input open');
    expect(f[3]).toContain("channel must be an integer 1-16");
  });

  it("sim.fs and scripts write in a copy of the show: the show folder is never written", async () => {
    const s = await runOne(
      "more/files_test.lua",
      `it("writes", function()
         sim.fs.write("imports/given.txt", "from the test")
         assert.equals("from the test", sim.fs.read("imports/given.txt"))
         assert.equals("ok", script.run("writes_file", {}, { mode = "autoCommit" }).status)
         assert.equals("from the script", sim.fs.read("imports/out.txt"))
         -- What a script wrote stays in the copy for the run's later tests; sim.fs.remove cleans it.
         sim.fs.remove("imports/out.txt")
       end)
       it("is put back after the test", function()
         assert.is_nil(sim.fs.read("imports/given.txt"))
         assert.error_matches(function() sim.fs.write("../outside.txt", "x") end, "must be a path inside the show folder")
       end)`,
    );
    expectAllPass(s);
    expect(existsSync(path.join(show, "imports", "given.txt"))).toBe(false);
    expect(existsSync(path.join(show, "imports", "out.txt"))).toBe(false);
    expect(existsSync(path.join(show, "outside.txt"))).toBe(false);
  });

  it("spies report calls and stubs answer for scripts; a spy of the test's own functions behaves as busted's", async () => {
    const s = await runOne(
      "more/spy_test.lua",
      `it("spies", function()
         local fx = fixture.load("../workspace/tests/fixtures/act1.toml")
         local q = script.stub("core.query", {})
         local run = script.run("renumber_cues", { scene_id = fx.scenes.act1 })
         assert.spy(q).was_called(1)
         assert.same({ { level = "warn", message = "No cues found in scene" } }, run.toasts)
         local t = { f = function(a, b) return a + b end }
         local s = spy.on(t, "f")
         assert.equals(3, t.f(1, 2))
         assert.spy(s).was_called_with(1, 2)
         assert.error_matches(function() assert.spy(s).was_called(2) end, "expected the spy to be called 2 time")
         s:revert()
         assert.equals("function", type(t.f))
       end)`,
    );
    if (s.failed > 0) {
      // The toast text is the script's own: say what came when it differs.
      throw new Error(textReport(s));
    }
    expectAllPass(s);
  });
});

describe("CSV fixtures", () => {
  it("load one table typed by the schema; a bad cell names its row, line and column; an unknown table is named", async () => {
    writeTest("more/fixtures/bad.lighting_fixtures.csv", "@name,unit_number,channel\na,1,101\nb,2,lots\n");
    writeTest("more/fixtures/rig.csv", "unit_number\n1\n");
    writeTest("more/fixtures/ok.lighting_fixtures.csv", '@name,unit_number,channel,notes\nx,7,107,"with, a comma"\n,8,108,\n');
    const s = await runOne(
      "more/csv_test.lua",
      `it("loads", function()
         local fx = fixture.load("fixtures/ok.lighting_fixtures.csv")
         assert.equals(107, workspace.get(fx.lighting_fixtures.x).channel)
         assert.equals(108, workspace.get(fx.lighting_fixtures["2"]).channel)
       end)
       it("bad cell", function() fixture.load("fixtures/bad.lighting_fixtures.csv") end)
       it("no table", function() fixture.load("fixtures/rig.csv") end)`,
    );
    const f = failures(s);
    expect(s.passed).toBe(1);
    expect(f[0]).toContain("row 2 (line 3), column channel");
    expect(f[0]).toContain("is not a whole number");
    expect(f[1]).toContain("a CSV fixture is named after its table");
  });
});

function cli(args: string[], cwd: string): { child: ReturnType<typeof spawn>; out: () => string; err: () => string; done: Promise<number> } {
  const child = spawn(process.execPath, [path.join(ROOT, "bin", "openprod.js"), ...args], { cwd, stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  child.stdout?.on("data", (d: Buffer) => (stdout += d.toString()));
  child.stderr?.on("data", (d: Buffer) => (stderr += d.toString()));
  const done = new Promise<number>((resolve, reject) => {
    child.on("error", reject);
    child.on("close", (code) => resolve(code ?? -1));
  });
  return { child, out: () => stdout, err: () => stderr, done };
}

async function until(what: string, check: () => boolean, ms: number, seen: () => string = () => ""): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}${seen()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe("openprod test --daemon", () => {
  it("each test starts from the show's current state, named by fixture.snapshot(); the show's store is not changed", async () => {
    const { loadShow } = await import("../daemon/config/index.ts");
    const { WorkspaceStore, levelPersistence } = await import("../daemon/crdt/index.ts");
    const { loadFixture } = await import("../daemon/scripttest/index.ts");
    const dir = copyExampleShow("openprod-scripttest-daemon-");
    try {
      const cfg = await loadShow(dir);
      const store = await WorkspaceStore.open({ persistence: levelPersistence({ dir: cfg.dir.storeDir }), schema: cfg.schema, workspaceId: cfg.config.workspace.id, peerId: "peer-a" });
      await loadFixture(store, path.join(dir, "workspace", "tests", "fixtures", "act1.toml"));
      const heads = store.heads();
      await store.close();
      writeFileSync(
        path.join(dir, "more_test.lua"),
        `it("renumbers the show's act 1", function()
           local snap = fixture.snapshot()
           local act1 = snap.scenes["Act 1"]
           assert.truthy(act1)
           local run = script.run("renumber_cues", { scene_id = act1 })
           assert.same({
             "SetField lighting_cues.Q12 Blackout number = 3",
             "SetField lighting_cues.Q3 Preset number = 2",
             "SetField lighting_cues.Q7 House to half number = 1",
           }, (function() local o = run.session.ops table.sort(o) return o end)())
           assert.equals("committed", run.session:commit().status)
         end)
         it("starts again from the show's state", function()
           assert.equals(7, workspace.get(fixture.snapshot().lighting_cues["Q7 House to half"]).number)
         end)`,
      );
      const r = cli(["test", "--daemon", path.join(dir, "more_test.lua"), "--dir", dir], dir);
      const code = await r.done;
      if (code !== 0) throw new Error(r.out() + r.err());
      expect(r.out()).toContain("2 passed, 0 failed");
      const again = await WorkspaceStore.open({ persistence: levelPersistence({ dir: cfg.dir.storeDir }), schema: cfg.schema, workspaceId: cfg.config.workspace.id, peerId: "peer-a" });
      expect(again.heads()).toEqual(heads);
      await again.close();
      // Without --daemon there is no show state to take.
      const plain = cli(["test", path.join(dir, "more_test.lua"), "--dir", dir], dir);
      expect(await plain.done).toBe(1);
      expect(plain.out()).toContain("fixture.snapshot() takes the show's current state: run openprod test --daemon");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("openprod test through the CLI", () => {
  it("the example show's tests (OSC, MIDI, HTTP, files, dialogs, peers, time) pass: exit 0", async () => {
    const r = cli(["test", "--reporter", "json"], show);
    const code = await r.done;
    // A failure says which example test failed and how (the json report names it).
    expect(code, `${r.out()}\n${r.err()}`).toBe(0);
    const suite = JSON.parse(r.out()) as SuiteResult;
    const names = suite.files.map((f) => f.file);
    for (const f of ["auto_follow_test.lua", "go_button_test.lua", "console_check_test.lua", "reset_cues_test.lua", "concurrent_edits_test.lua", "osc_listener_test.lua", "lightwright_sync_test.lua"]) {
      expect(names.some((n) => n.endsWith(f))).toBe(true);
    }
    expect(suite.failed).toBe(0);
  });

  it("--watch runs again when a test file is saved, and Ctrl-C ends it with exit 0", async () => {
    const file = writeTest("more/watched_test.lua", 'it("first version", function() assert.equals(1, 1) end)\n');
    const r = cli(["test", "--watch", file], show);
    try {
      // Each wait ends before the test's own time limit, saying what the watch printed so far.
      const seen = (): string => `\n--- stdout\n${r.out()}\n--- stderr\n${r.err()}`;
      await until("the first run", () => r.out().includes("1 passed"), 25_000, seen);
      await until("the watcher", () => r.err().includes("watching for changes"), 10_000, seen);
      // A save with a failing test: the rerun says so.
      writeFileSync(file, 'it("second version", function() assert.equals(1, 2) end)\n');
      await until("the rerun", () => r.out().includes("second version"), 20_000, seen);
      expect(r.err()).toContain("rerun: ");
      expect(r.out()).toContain("0 passed, 1 failed");
    } finally {
      r.child.kill("SIGINT");
    }
    expect(await r.done).toBe(0);
  });
});
