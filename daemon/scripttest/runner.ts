/**
 * The runner: loads the show once (schema, scripts, capabilities), then runs each test file in
 * turn on one Lua engine, every `it` in its own scratch workspace. Needs no daemon; the show's
 * own store is never opened.
 */
import { cpSync, rmSync } from "node:fs";
import path from "node:path";
import { loadShow } from "../config/index.ts";
import { createLuaEngine } from "../scripts/engine/index.ts";
import { findTestFiles } from "./discover.ts";
import type { FileResult, SuiteResult } from "./results.ts";
import { suiteOf } from "./results.ts";
import { runTestFile } from "./run-file.ts";
import { scratchRoot, showUnderTest } from "./scratch.ts";

export interface RunTestsOptions {
  /** The show directory (openprod.toml). */
  showDir: string;
  /** Test files or folders; default: the show's workspace/tests and modules/<m>/tests. */
  paths?: readonly string[];
  /** Only tests whose full name ("describe … it") matches this pattern (a JS regular expression) run. */
  filter?: string;
  /**
   * Deadline of each test file, ms (default 5 min): it stops a test stuck in a loop. A file's
   * tests share it (the engine limits a whole Lua run), so it is generous for long files.
   */
  fileTimeoutMs?: number;
  /** Called as each file finishes (reporters that stream). */
  onFile?: (f: FileResult) => void;
}

export async function runTests(opts: RunTestsOptions): Promise<SuiteResult> {
  const started = performance.now();
  const real = await loadShow(opts.showDir);
  const files = findTestFiles(real.dir.root, opts.paths ?? []);
  const filter = opts.filter === undefined ? undefined : new RegExp(opts.filter);
  const scratchDir = scratchRoot();
  // Scripts run from a copy of the show's files: what they (and sim.fs) write never reaches the show.
  const copy = path.join(scratchDir, "show");
  cpSync(real.dir.root, copy, { recursive: true, filter: (src) => path.basename(src) !== ".openprod" });
  const show = showUnderTest(await loadShow(copy));
  // A test file blocks its worker while a script it drives runs on another: two workers at least.
  const engine = createLuaEngine({ maxWorkers: 3, warmWorkers: 2 });
  const results: FileResult[] = [];
  try {
    for (const f of files) {
      const r = await runTestFile({ engine, show, showRoot: real.dir.root, scratchDir, filter, timeoutMs: opts.fileTimeoutMs ?? 300_000 }, f);
      results.push(r);
      opts.onFile?.(r);
    }
  } finally {
    await engine.close();
    rmSync(scratchDir, { recursive: true, force: true });
  }
  return suiteOf(results, performance.now() - started);
}
