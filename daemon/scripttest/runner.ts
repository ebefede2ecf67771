/**
 * The runner: loads the show once (schema, scripts, capabilities), then runs each test file in
 * turn on one Lua engine, every `it` in its own scratch workspace. Needs no daemon; the show's
 * own store is never opened.
 */
import { cpSync, rmSync } from "node:fs";
import path from "node:path";
import { existsSync } from "node:fs";
import { loadShow } from "../config/index.ts";
import type { ShowConfig } from "../config/index.ts";
import { StorageError, WorkspaceStore, levelPersistence } from "../crdt/index.ts";
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
  /**
   * Each test starts from the show's current state (its store: a private copy, so a running
   * daemon is not disturbed) instead of an empty workspace; fixture.snapshot() names it.
   */
  fromShow?: boolean;
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
  const state = opts.fromShow ? await openShowState(real) : null;
  const show = showUnderTest(await loadShow(copy), state);
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
    await state?.close();
    rmSync(scratchDir, { recursive: true, force: true });
  }
  return suiteOf(results, performance.now() - started);
}

/** The show's store as it is now, read from a private copy (the offline read path): a running daemon keeps going. */
async function openShowState(show: ShowConfig): Promise<WorkspaceStore> {
  if (!existsSync(path.join(show.dir.storeDir, "CURRENT"))) {
    throw new StorageError(`openprod test --daemon: the show has no workspace store yet (${show.dir.storeDir}); start the daemon once (openprod daemon) or run without --daemon`, { dir: show.dir.storeDir });
  }
  return WorkspaceStore.open({
    persistence: levelPersistence({ dir: show.dir.storeDir, acknowledgedFile: show.dir.acknowledgedFile, readOnly: true }),
    schema: show.schema,
    workspaceId: show.config.workspace.id,
    peerId: "openprod-test",
  });
}
