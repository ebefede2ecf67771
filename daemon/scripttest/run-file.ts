/**
 * Runs one *_test.lua file: the file is a Lua run in the real engine's sandbox with the test
 * API (framework.lua) as its prelude; each `it` asks the host for a fresh scratch workspace,
 * drives the show's scripts in it through the real runtime and reports its result.
 */
import { readFileSync } from "node:fs";
import { readFile } from "node:fs/promises";
import path from "node:path";
import { entityName, InvalidOperation } from "../crdt/index.ts";
import { LuaFloat } from "../scripts/engine/index.ts";
import type { HostBinding, HostValue, LuaEngine, RunInfo } from "../scripts/engine/index.ts";
import type { RunResult } from "../scripts/runtime/index.ts";
import { loadFixture } from "./fixture.ts";
import type { FixtureIds } from "./fixture.ts";
import type { FixtureStart } from "./fixture-start.ts";
import type { FileResult, TestFailure, TestResult } from "./results.ts";
import { ScratchWorkspace, startPoint, testWorld } from "./scratch.ts";
import type { ShowUnderTest, TestWorld } from "./scratch.ts";
import { hostValue, opLine, runOutcome } from "./session-view.ts";
import { simBindings } from "./sim-bindings.ts";
import { ShowFiles } from "./sim/index.ts";
import { fieldValue, isObj, runOptions, shortFields } from "./test-values.ts";

const FRAMEWORK = readFileSync(new URL("./framework.lua", import.meta.url), "utf8");

/** Bindings that need no workspace (the test's bookkeeping, its clock, reading a fixture file): they do not open one. */
const NO_WORKSPACE = new Set(["__t.wanted", "__t.begin", "__t.report", "__t.fixture_load", "__t.fixture_read", "__t.clock_now", "__t.clock_advance", "__t.clock_sleeping"]);

export interface FileRunInput {
  engine: LuaEngine;
  show: ShowUnderTest;
  /** The show's own folder (test files are named relative to it); scripts run from a copy. */
  showRoot: string;
  /** Where scratch stores are made (a temp folder of the runner's). */
  scratchDir: string;
  /** Only tests whose full name ("describe it") matches run. */
  filter?: RegExp;
  /** Deadline of the whole file, ms. */
  timeoutMs: number;
}

interface Report {
  path: string[];
  status: "pass" | "fail" | "pending";
  failure?: TestFailure;
  file?: string;
  line?: number;
}


function asReport(v: HostValue): Report {
  if (!isObj(v) || !Array.isArray(v.path)) throw new InvalidOperation("malformed test report", {});
  const f = v.failure;
  const failure: TestFailure | undefined = isObj(f)
    ? {
        message: String(f.message ?? ""),
        ...(typeof f.expected === "string" ? { expected: f.expected } : {}),
        ...(typeof f.actual === "string" ? { actual: f.actual } : {}),
        ...(typeof f.file === "string" ? { file: f.file } : {}),
        ...(typeof f.line === "number" ? { line: f.line } : {}),
        ...(f.error === true ? { error: true } : {}),
      }
    : undefined;
  return {
    path: v.path.map(String),
    status: v.status === "pass" || v.status === "pending" ? v.status : "fail",
    failure,
    ...(typeof v.file === "string" ? { file: v.file } : {}),
    ...(typeof v.line === "number" ? { line: v.line } : {}),
  };
}

export async function runTestFile(input: FileRunInput, file: string): Promise<FileResult> {
  const started = performance.now();
  const root = input.showRoot;
  // How Lua errors name the file: relative to the show when it is in it, else to where the runner was started.
  const inShow = path.relative(root, file);
  const chunkName = inShow.startsWith("..") || path.isAbsolute(inShow) ? path.relative(process.cwd(), file) : inShow;
  const tests: TestResult[] = [];
  const source = await readFile(file, "utf8");
  const problem = await input.engine.checkSyntax(source, chunkName);
  if (problem) {
    return { file: chunkName, tests, error: { message: `SyntaxError: ${problem.message}`, file: problem.file, line: problem.line, error: true }, ms: performance.now() - started };
  }

  /**
   * The current test's workspace, opened at its first use: when that is a fixture.load, the
   * workspace starts from that fixture's cached start (fixture-start.ts) instead of applying it.
   */
  let ws: ScratchWorkspace | null = null;
  /** Between __t.begin and __t.report of a test that runs. */
  let inTest = false;
  let world: TestWorld = testWorld();
  let testStarted = 0;
  /** Fixture names of the current test's entities, for readable ops. */
  let names = new Map<string, string>();
  /** Every fixture entity of the current test, for refs across fixture files. */
  let loaded: FixtureIds = {};
  /** Files of the scratch show the test wrote (sim.fs): put back as each test ends. */
  const files = new ShowFiles(input.show.show.dir.root);
  const closeWs = async (): Promise<void> => {
    const w = ws;
    ws = null;
    inTest = false;
    if (w) await w.close();
    await files.restore();
  };
  const outsideTest = (): InvalidOperation => new InvalidOperation("the workspace exists only inside an it(...) (or its before_each/after_each)", {});
  const current = (): ScratchWorkspace => {
    if (!ws) throw outsideTest();
    return ws;
  };
  const open = async (start?: FixtureStart): Promise<ScratchWorkspace> =>
    (ws = await ScratchWorkspace.open({ show: input.show, engine: input.engine, world, parentDir: input.scratchDir, ...(start ? { start } : {}) }));
  /** Before a binding that works in the workspace: opened (empty) if this test has not used it yet. */
  const opened = async (): Promise<void> => {
    if (inTest && !ws) await open();
  };
  const nameOf = (id: string): string => names.get(id) ?? id;
  /** How the test sees a run that ended: its session's ops are read while still open. */
  const outcome = async (w: ScratchWorkspace, result: RunResult): Promise<HostValue> => {
    const sessions = result.sessionId ? await w.runtime.sessions() : [];
    const ops = sessions.find((s) => s.id === result.sessionId)?.ops ?? [];
    return runOutcome({ result, events: w.events, ops }, nameOf);
  };
  const sync = (fn: (args: HostValue[]) => HostValue | Promise<HostValue>): HostBinding => ({ kind: "sync", fn });

  const wanted = (p: HostValue): boolean => !input.filter || input.filter.test(Array.isArray(p) ? p.map(String).join(" ") : String(p));
  const own: Record<string, HostBinding> = {
    "__t.wanted": sync(([p]) => wanted(p)),
    "__t.begin": sync(async ([p]) => {
      await closeWs();
      if (!wanted(p)) return false;
      world = testWorld();
      names = new Map();
      loaded = {};
      testStarted = performance.now();
      inTest = true;
      return true;
    }),
    "__t.report": sync(async ([r]) => {
      const rep = asReport(r);
      tests.push({ ...rep, ms: rep.status === "pending" ? 0 : performance.now() - testStarted });
      await closeWs();
      return null;
    }),
    "__t.run_script": sync(async ([name, args, opts]) => {
      const w = current();
      const start = w.runtime.run(String(name), { ...runOptions(opts ?? null), args: isObj(args ?? null) ? (args as Record<string, unknown>) : {}, user: "openprod-test" });
      // What an autoCommit run wrote fires triggers as it would live: let them finish first.
      const result = await w.waitFor(async () => {
        const r = await start.done;
        await w.settle();
        return r;
      }, start.runId);
      return outcome(w, result);
    }),
    "__t.session_commit": sync(async ([id]) => {
      const w = current();
      const out = await w.waitFor(async () => {
        const o = await w.runtime.commitSession(String(id), "openprod-test");
        await w.settle();
        return o;
      });
      return out.status === "committed" ? hostValue({ status: out.status, ops: out.ops }) : hostValue({ status: out.status, conflicts: out.conflicts, bulk: out.bulk });
    }),
    "__t.session_discard": sync(async ([id]) => {
      await current().runtime.discardSession(String(id));
      return hostValue({ status: "discarded" });
    }),
    "__t.fixture_load": sync(async ([f]) => {
      const abs = path.resolve(path.dirname(file), String(f));
      let ids: FixtureIds;
      if (inTest && !ws) {
        // The test's first use of its workspace: it starts with the fixture in (applied once per run).
        const start = await input.show.starts.start(abs, String(f), startPoint(world));
        await open(start);
        ids = start.ids;
      } else {
        const w = current();
        ids = await w.quietly(() => loadFixture(w.store, abs, String(f), loaded));
      }
      for (const [table, byName] of Object.entries(ids)) {
        loaded[table] = { ...loaded[table], ...byName };
        for (const [n, id] of Object.entries(byName)) names.set(id, `${table}.${n}`);
      }
      return hostValue(ids);
    }),
    "__t.fixture_snapshot": sync(() => {
      const w = current();
      if (!input.show.state) throw new InvalidOperation("fixture.snapshot() takes the show's current state: run openprod test --daemon", {});
      // Every entity the show holds, by table and display name ("Q7 House to half"); a name two share gets its id after it.
      const ids: FixtureIds = {};
      for (const table of w.store.schema.tables.keys()) {
        for (const e of w.store.query(`table == '${table}'`)) {
          const byName = (ids[table] ??= {});
          let n = entityName(e, w.store.schema);
          if (n in byName) n = `${n} ${e.id}`;
          byName[n] = e.id;
          names.set(e.id, `${table}.${n}`);
        }
      }
      for (const [table, byName] of Object.entries(ids)) loaded[table] = { ...loaded[table], ...byName };
      return hostValue(ids);
    }),
    "__t.fixture_read": sync(async ([f]) => {
      const abs = path.resolve(path.dirname(file), String(f));
      try {
        return await readFile(abs, "utf8");
      } catch {
        throw new InvalidOperation(`fixture.read: ${String(f)} not found (looked at ${abs})`, { file: abs });
      }
    }),
    "__t.set_field": sync(async ([id, field, value]) => {
      const w = current();
      await w.waitFor(async () => {
        await w.store.apply([{ op: "SetField", id: String(id), field: String(field), value: fieldValue(value ?? null) }], { actor: { kind: "user", name: "openprod-test" } });
        await w.settle();
      });
      return null;
    }),
    "__t.triggers_fired": sync(async () => {
      const w = current();
      const sessions = await w.runtime.sessions();
      return hostValue(
        w.fired.map((f) => {
          const s = sessions.find((x) => x.runId === f.runId);
          return {
            trigger: f.trigger,
            script: f.script,
            entity: f.entity,
            field: f.field.split(".").pop() ?? f.field,
            old_value: f.oldValue,
            new_value: f.newValue,
            args: f.args,
            run_id: f.runId,
            status: f.status,
            error: f.error ?? null,
            session: s ? { id: s.id, status: "open", ops: s.ops.map((o) => opLine(o, nameOf)) } : null,
          };
        }),
      );
    }),
    "__t.entity": sync(([id]) => {
      const w = current();
      const e = w.store.getEntity(String(id));
      return hostValue({ ...shortFields(e.fields), id: e.id });
    }),
    "__t.query": sync(([q, params]) => {
      const w = current();
      const list = w.store.query(String(q), Array.isArray(params) ? params : []);
      return hostValue(list.map((e) => ({ ...shortFields(e.fields), id: e.id })));
    }),
    "__t.clock_now": sync(() => world.clock.now()),
    "__t.clock_advance": sync(async ([ms]) => {
      const n = ms instanceof LuaFloat ? ms.value : ms;
      if (typeof n !== "number") throw new InvalidOperation(`clock.advance(ms) needs a number of milliseconds (got ${JSON.stringify(ms)})`, {});
      return world.clock.advance(n);
    }),
    "__t.clock_sleeping": sync(() => world.clock.sleeping()),
    ...simBindings({ current, outcome, files }),
    "__t.dialog_answer": sync(([message, value]) => {
      current().answers.push({ message: String(message), value: value ?? null });
      return null;
    }),
    "__t.dialogs_asked": sync(() => hostValue(current().asked.map((d) => ({ kind: d.kind, message: d.message, script: d.script })))),
  };
  const bindings: Record<string, HostBinding> = {};
  for (const [name, b] of Object.entries(own)) {
    const fn = b.kind === "sync" ? b.fn : null;
    bindings[name] = NO_WORKSPACE.has(name) || !fn ? b : { ...b, fn: async (args: HostValue[], info: RunInfo) => {
      await opened();
      return fn(args, info);
    } };
  }

  try {
    const outcome = await input.engine.run({
      runId: `test-${path.basename(file)}-${Date.now()}`,
      chunkName,
      source,
      globals: {},
      bindings,
      preludeLua: FRAMEWORK,
      seed: 1,
      limits: { timeoutMs: input.timeoutMs, memoryBytes: 256 * 1024 * 1024 },
    }).done;
    const error: TestFailure | undefined =
      outcome.status === "ok"
        ? undefined
        : {
            message: outcome.error ? `${outcome.error.type}: ${outcome.error.message}` : `the test file ended: ${outcome.status}`,
            ...(outcome.error?.file ? { file: outcome.error.file } : {}),
            ...(outcome.error?.line ? { line: outcome.error.line } : {}),
            error: true,
          };
    return { file: chunkName, tests, ...(error ? { error } : {}), ms: performance.now() - started };
  } finally {
    await closeWs();
  }
}
