/**
 * createScriptRuntime: runs scripts (by id, from a catalog) on the Lua engine against a
 * workspace store, in a session overlay or autoCommit, and keeps their sessions until a
 * script or a person commits or discards them.
 */
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { InvalidOperation } from "../../crdt/index.ts";
import type { Schema, SchemaSource, WorkspaceStore } from "../../crdt/index.ts";
import type { HostValue, LuaEngine, RunError, RunHandle, SyntaxProblem } from "../engine/index.ts";
import type { Dialogs, RuntimeEvents } from "./events.ts";
import { readRunRecord, writeRunRecord } from "./run-records.ts";
import type { RunRecord, RunSkip } from "./run-records.ts";
import type { LoadedScript, ScriptCatalog } from "./script-catalog.ts";
import type { ExecutionMode } from "./script-config.ts";
import { ScriptRun } from "./script-run.ts";
import type { ScriptCapabilities } from "./script-run.ts";
import { Session } from "./session.ts";
import type { CommitOutcome, SessionSummary } from "./session.ts";
import type { SessionWorkerOptions } from "./session-worker.ts";

export interface ScriptRuntimeOptions {
  store: WorkspaceStore;
  engine: LuaEngine;
  scripts: ScriptCatalog;
  events: RuntimeEvents;
  dialogs: Dialogs;
  /** Milliseconds for run records' start/end (the daemon's clock). */
  clock?: () => number;
  /** Source of math.random seeds. */
  random?: () => number;
  log?: (entry: { level: string; message: string; runId: string; script: string }) => void;
  /**
   * The capabilities a script runs with; when given (not null), data.write / data.read are
   * enforced on core calls. Without it every write is allowed (gating is wired by the daemon).
   */
  capabilities?: (script: LoadedScript) => ScriptCapabilities | null;
}

export interface RunOptions {
  /** What the script sees as `args`. */
  args?: Record<string, unknown>;
  context?: { trigger_entity?: string; trigger_field?: string; old_value?: unknown; new_value?: unknown };
  user?: string;
  /** Overrides the script's execution_mode. */
  mode?: ExecutionMode;
  /** Causal chain stamped on every bundle (`origin.chain`). */
  chain?: unknown;
}

export type RunStatus = "ok" | "error" | "timeout" | "cancelled" | "killed";

export interface RunResult {
  runId: string;
  script: string;
  status: RunStatus;
  /** The run's session (the last one if the script committed mid-way). */
  sessionId?: string;
  sessionStatus?: "open" | "committed" | "discarded";
  /** Operations the run made (into overlays or as bundles). */
  ops: number;
  bundles: number;
  error?: RunError | SyntaxProblem;
  skips: RunSkip[];
  /** Request → first line of the script, ms. */
  startupMs?: number;
}

export interface RunStart {
  runId: string;
  done: Promise<RunResult>;
  cancel(reason: string): void;
}

export interface ScriptRuntime {
  run(scriptId: string, opts?: RunOptions): RunStart;
  /** Compiles the script without running it: null, or the syntax error with file, line and column. */
  check(scriptId: string): Promise<SyntaxProblem | null>;
  /** Open sessions, including those restored from the store after a restart. */
  sessions(): Promise<SessionSummary[]>;
  commitSession(sessionId: string, user?: string): Promise<CommitOutcome>;
  discardSession(sessionId: string): Promise<void>;
  resolveSessionConflict(sessionId: string, conflictId: string, choice: "script" | "canonical"): Promise<void>;
  resolveSessionBulk(sessionId: string, choice: "script" | "canonical"): Promise<number>;
  runRecord(runId: string): Promise<RunRecord | undefined>;
}

const WORKER_MODULE = fileURLToPath(new URL("./session-worker.ts", import.meta.url));
const PRELUDE = readFileSync(new URL("./prelude.lua", import.meta.url), "utf8");
const schemaSources = new WeakMap<Schema, { key: string; source: SchemaSource }>();

function schemaForWorker(schema: Schema): { key: string; source: SchemaSource } {
  let hit = schemaSources.get(schema);
  if (!hit) {
    const source = JSON.parse(
      JSON.stringify({ facets: [...schema.facets.values()], tables: [...schema.tables.values()], edgeTypes: [...schema.edgeTypes.values()] }),
    ) as SchemaSource;
    hit = { key: createHash("sha1").update(JSON.stringify(source)).digest("hex"), source };
    schemaSources.set(schema, hit);
  }
  return hit;
}

const LOCAL_PREFIX = "\u0000local:";

export function createScriptRuntime(opts: ScriptRuntimeOptions): ScriptRuntime {
  const { store, engine, scripts, events, dialogs } = opts;
  const clock = opts.clock ?? Date.now;
  const random = opts.random ?? Math.random;
  const open = new Map<string, Session>();
  let restored: Promise<void> | null = null;
  const emit = events.emit.bind(events);

  const restore = (): Promise<void> => {
    restored ??= Session.restoreAll({ store, emit }).then((list) => {
      for (const s of list) if (!open.has(s.id)) open.set(s.id, s);
    });
    return restored;
  };

  const sessionById = async (id: string): Promise<Session> => {
    await restore();
    const s = open.get(id);
    if (!s || s.status !== "open") {
      throw new InvalidOperation(`no open session ${id} (open: ${[...open.keys()].slice(0, 5).join(", ") || "none"})`, { session: id });
    }
    return s;
  };

  const forget = (s: Session): void => {
    if (s.status !== "open") open.delete(s.id);
  };

  function run(scriptId: string, ro: RunOptions = {}): RunStart {
    const runId = `run-${store.newEntityId()}`;
    const requested = performance.now();
    let handle: RunHandle | null = null;
    let cancelled: string | null = null;
    const done = (async (): Promise<RunResult> => {
      const startedAt = clock();
      const seed = Math.floor(random() * 2 ** 31);
      const heads = store.heads();
      const base = { runId, script: scriptId, ops: 0, bundles: 0, skips: [] as RunSkip[] };
      const record = async (r: RunResult, extra: Partial<RunRecord>): Promise<RunResult> => {
        await writeRunRecord(store, {
          runId,
          script: scriptId,
          hash: null,
          mode: ro.mode ?? "session",
          args: ro.args ?? {},
          context: ro.context ?? {},
          user: ro.user,
          chain: ro.chain,
          heads,
          seed,
          startedAt,
          endedAt: clock(),
          status: r.status,
          ops: r.ops,
          bundles: r.bundles,
          skips: r.skips,
          error: r.error,
          sessionId: r.sessionId,
          sessionStatus: r.sessionStatus,
          inputs: [],
          log: [],
          ...extra,
        });
        emit({ type: "run.finished", runId, script: scriptId, status: r.status, ops: r.ops, sessionId: r.sessionId });
        return r;
      };

      let script;
      try {
        script = await scripts.load(scriptId);
      } catch (e) {
        const err = e as { code?: string; message: string; details?: Record<string, HostValue> };
        return record({ ...base, status: "error", error: { type: err.code ?? "InternalError", message: err.message, details: err.details } }, {});
      }
      const problem = await engine.checkSyntax(script.source, script.chunkName);
      if (problem) {
        return record({ ...base, status: "error", error: { ...problem, message: `${problem.file}:${problem.line}:${problem.column}: ${problem.message}` } }, { hash: script.hash });
      }
      const mode = ro.mode ?? script.config.executionMode;
      const capabilities = opts.capabilities?.(script) ?? null;
      const sr = new ScriptRun(
        { store, emit, dialogs, log: opts.log, adopt: (s) => open.set(s.id, s), capabilities },
        runId,
        script,
        mode,
        heads,
        store.hlcNow(),
        ro.user,
        ro.chain,
      );
      if (mode === "session") sr.currentSession();
      emit({ type: "run.started", runId, script: script.id });
      const { key, source } = schemaForWorker(store.schema);
      const workerOptions: SessionWorkerOptions = { schemaKey: key, schema: source, batch: mode === "session" && capabilities === null };
      const onError = script.config.onError;
      const engineStart = performance.now();
      handle = engine.run({
        runId,
        chunkName: script.chunkName,
        source: script.source,
        globals: {
          args: JSON.parse(JSON.stringify(ro.args ?? {})) as HostValue,
          __run: JSON.parse(JSON.stringify({ ...(ro.context ?? {}), user: ro.user ?? null })) as HostValue,
        },
        bindings: sr.bindings(),
        workerModules: [{ path: WORKER_MODULE, options: workerOptions as unknown as HostValue }],
        preludeLua: PRELUDE,
        seed,
        limits: { timeoutMs: script.config.timeoutMs, memoryBytes: script.config.memoryBytes, shutdownTimeoutMs: script.config.shutdownTimeoutMs },
        onUnhandledError: async (err, binding) => {
          if (onError === "skip") return "skip";
          if (onError === "abort") return "abort";
          const name = binding.startsWith(LOCAL_PREFIX) ? binding.slice(LOCAL_PREFIX.length) : binding;
          const answer = await dialogs.ask({
            kind: "error",
            runId,
            script: script.id,
            message: `${script.id}: ${name} failed: ${err.type}: ${err.message}. Skip this operation and continue, or abort the run (its overlay is discarded)?`,
            error: { type: err.type, message: err.message },
            options: ["skip", "abort"],
          });
          sr.inputs.push({ kind: "dialog.error", value: answer ?? null });
          return answer === "skip" ? "skip" : "abort";
        },
      });
      if (cancelled !== null) handle.cancel(cancelled);
      const outcome = await handle.done;

      const skips: RunSkip[] = [
        ...outcome.skips.map((s) => ({
          binding: s.binding.startsWith(LOCAL_PREFIX) ? s.binding.slice(LOCAL_PREFIX.length) : s.binding,
          error: { type: s.error.type, message: s.error.message, file: s.error.file, line: s.error.line },
        })),
        ...sr.lateSkips,
      ];
      let status: RunStatus = outcome.status;
      let error: RunError | undefined = outcome.error;
      const last = sr.session;
      for (const s of sr.sessions) {
        try {
          await s.flush();
        } catch (e) {
          status = "error";
          error = { type: "StorageError", message: (e as Error).message };
        }
      }
      if (last && last.status === "open") {
        const keepForReview = status === "ok" || error?.type === "PermissionDenied";
        if (!keepForReview || last.overlay.size === 0) await last.discard();
      }
      for (const s of sr.sessions) forget(s);
      const result: RunResult = {
        runId,
        script: script.id,
        status,
        ops: sr.ops,
        bundles: sr.bundles,
        error,
        skips,
        sessionId: last?.id,
        sessionStatus: last?.status,
        startupMs: outcome.firstLineAt !== undefined ? engineStart - requested + (outcome.firstLineAt - outcome.startedAt) : undefined,
      };
      return record(result, { hash: script.hash, mode, inputs: sr.inputs, log: sr.lines });
    })();
    return {
      runId,
      done,
      cancel(reason: string) {
        cancelled = reason;
        handle?.cancel(reason);
      },
    };
  }

  return {
    run,
    async check(scriptId) {
      const s = await scripts.load(scriptId);
      return engine.checkSyntax(s.source, s.chunkName);
    },
    async sessions() {
      await restore();
      return [...open.values()].filter((s) => s.status === "open").map((s) => s.summary());
    },
    async commitSession(sessionId, user) {
      const s = await sessionById(sessionId);
      const origin: Record<string, unknown> = { script: s.meta.scriptId, hash: s.meta.hash, runId: s.meta.runId };
      if (s.meta.chain !== undefined && s.meta.chain !== null) origin.chain = s.meta.chain;
      if (user) origin.committedBy = user;
      const r = await s.commit({ actor: { kind: "script", name: s.meta.scriptId, runId: s.meta.runId }, origin });
      forget(s);
      return r;
    },
    async discardSession(sessionId) {
      const s = await sessionById(sessionId);
      await s.discard();
      forget(s);
    },
    async resolveSessionConflict(sessionId, conflictId, choice) {
      await (await sessionById(sessionId)).resolve(conflictId, choice);
    },
    async resolveSessionBulk(sessionId, choice) {
      return (await sessionById(sessionId)).resolveBulk(choice);
    },
    runRecord: (runId) => readRunRecord(store, runId),
  };
}
