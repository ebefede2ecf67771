/**
 * `openprod test` costs, on the example show's renumber_cues with a 100-cue fixture:
 * - scripttest.per_test.ms: one `it` (fresh scratch workspace, fixture load, one script run,
 *   its assertions), the mean over a file of such tests. Target <= 20.
 * - scripttest.suite_100.s: a file of 100 such tests, from the runner's start (show loaded,
 *   engine started) to its results. Target <= 3.
 * - scripttest.direct_run.ms: for scale, the same script run straight on the runtime over one
 *   store already holding the fixture (no scratch workspace, no test file), in the same run.
 */
import { cpSync, mkdtempSync, rmSync, writeFileSync, mkdirSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { loadShow } from "../daemon/config/index.ts";
import { WorkspaceStore, levelPersistence } from "../daemon/crdt/index.ts";
import { createLuaEngine } from "../daemon/scripts/engine/index.ts";
import { createScriptRuntime, showScripts } from "../daemon/scripts/runtime/index.ts";
import { loadFixture, runTests, textReport } from "../daemon/scripttest/index.ts";
import { size } from "./scale.ts";

type Report = (name: string, value: number, unit: string) => void;
const EXAMPLE_SHOW = path.resolve(import.meta.dirname, "../examples/show");
const CUES = 100;

function fixtureToml(): string {
  const lines = ['[scenes.act1]\nname = "Act 1"\n'];
  for (let i = 1; i <= CUES; i++) lines.push(`[lighting_cues.Q${i}]\nlabel = "Cue ${i}"\nnumber = ${CUES + 1 - i}\norder_index = ${i}.0\nscene = "@scenes.act1"\n`);
  return lines.join("\n");
}

function testFile(tests: number): string {
  const its: string[] = [];
  for (let i = 1; i <= tests; i++) {
    its.push(`  it("renumbers 100 cues (${i})", function()
    local fx = fixture.load("fixtures/cues100.toml")
    local run = script.run("renumber_cues", { scene_id = fx.scenes.act1 })
    assert.equals("ok", run.status)
    assert.equals(${CUES}, #run.session.ops)
  end)`);
  }
  return `describe("bench", function()\n${its.join("\n")}\nend)\n`;
}

export async function run(report: Report): Promise<void> {
  const show = mkdtempSync(path.join(tmpdir(), "openprod-bench-scripttest-"));
  try {
    cpSync(EXAMPLE_SHOW, show, { recursive: true, filter: (src) => path.basename(src) !== ".openprod" });
    const dir = path.join(show, "bench-tests");
    mkdirSync(path.join(dir, "fixtures"), { recursive: true });
    writeFileSync(path.join(dir, "fixtures", "cues100.toml"), fixtureToml());

    const perTest = path.join(dir, "per_test_test.lua");
    writeFileSync(perTest, testFile(size(20, 2)));
    const a = await runTests({ showDir: show, paths: [perTest] });
    if (a.failed > 0) throw new Error(textReport(a));
    const tests = a.files[0].tests;
    report("scripttest.per_test.ms", tests.reduce((n, t) => n + t.ms, 0) / tests.length, "ms");

    const suite = path.join(dir, "suite_test.lua");
    const n = size(100, 2);
    writeFileSync(suite, testFile(n));
    const started = performance.now();
    const b = await runTests({ showDir: show, paths: [suite] });
    if (b.failed > 0 || b.passed !== n) throw new Error(textReport(b));
    report("scripttest.suite_100.s", (performance.now() - started) / 1000, "s");

    report("scripttest.direct_run.ms", await directRun(show, path.join(dir, "fixtures", "cues100.toml"), size(20, 2)), "ms");
  } finally {
    rmSync(show, { recursive: true, force: true });
  }
}

async function directRun(showDir: string, fixture: string, runs: number): Promise<number> {
  const show = await loadShow(showDir);
  const dir = mkdtempSync(path.join(tmpdir(), "openprod-bench-direct-"));
  const store = await WorkspaceStore.open({ persistence: levelPersistence({ dir }), schema: show.schema, workspaceId: show.config.workspace.id, peerId: "peer-bench" });
  const engine = createLuaEngine({ maxWorkers: 2, warmWorkers: 1 });
  try {
    const ids = await loadFixture(store, fixture);
    const runtime = createScriptRuntime({
      store,
      engine,
      scripts: showScripts({ root: show.dir.root, config: show.config, modules: show.modules, readFile: (f) => readFile(f, "utf8") }),
      events: { emit: () => undefined },
      dialogs: { ask: async () => null },
    });
    const args = { scene_id: ids.scenes.act1 };
    await runtime.run("renumber_cues", { args }).done;
    const started = performance.now();
    for (let i = 0; i < runs; i++) {
      const r = await runtime.run("renumber_cues", { args }).done;
      if (r.status !== "ok") throw new Error(`renumber_cues ended ${r.status}: ${r.error?.message ?? ""}`);
    }
    const ms = (performance.now() - started) / runs;
    await runtime.shutdown("bench done");
    return ms;
  } finally {
    await engine.close();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
