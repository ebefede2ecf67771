/**
 * createScriptRuntime: runs scripts (by id, from a catalog) on the Lua engine against a
 * workspace store, in a session overlay or autoCommit, and keeps their sessions until a
 * script or a person commits or discards them.
 */
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { EntityNotFound, InvalidOperation, PermissionDenied } from "../../crdt/index.ts";
import type { Schema, SchemaSource, WorkspaceStore } from "../../crdt/index.ts";
import { SLEEP_BINDING, TIMING_BINDING } from "../engine/index.ts";
import type { HostBinding, HostValue, LuaEngine, RunError, RunHandle, ShutdownOutcome, SyntaxProblem } from "../engine/index.ts";
import { InputTape, recordedRaces, replayedBindings } from "./input-tape.ts";
import type { TapeRanOut } from "./input-tape.ts";
import { createNativeMidiPort } from "../io/index.ts";
import type { IoSeams, MidiPort } from "../io/index.ts";
import { BackgroundScripts, STOP_GRACE_MS } from "./background.ts";
import type { BackgroundStatus, ReloadResult, StartBackgroundOptions } from "./background.ts";
import { backgroundPreludeLua, PHASE_BINDING } from "./background-prelude.ts";
import type { Dialogs, RuntimeEvents } from "./events.ts";
import { wireRunIo } from "./io-wiring.ts";
import type { RunIo } from "./io-wiring.ts";
import { readRunRecord, writeRunRecord } from "./run-records.ts";
import type { RunRecord, RunSkip } from "./run-records.ts";
import { contentHash } from "./script-catalog.ts";
import type { LoadedScript, ScriptCatalog } from "./script-catalog.ts";
import type { ExecutionMode } from "./script-config.ts";
import { ScriptRun } from "./script-run.ts";
import { Session } from "./session.ts";
import { CapabilitySet, writeGate } from "../capabilities/index.ts";
import type { NativeRegistry } from "../native/index.ts";
import { createRunGate, defaultNativeRegistry, grantInForce, showDirOf } from "./run-gating.ts";
import type { RunGate } from "./run-gating.ts";
import { capturingStore, finishRun, withRunHash } from "./replay.ts";
import type { ReplayResult, ReplayRunInput } from "./replay.ts";
import { replayRun } from "./replay-run.ts";
import { QUERY_FUNCTIONS, scriptProfile } from "./run-profile.ts";
import type { ScriptProfile } from "./run-profile.ts";
import { updateScriptSource } from "./script-source.ts";
import type { Operation, WriteGate } from "../../crdt/index.ts";
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
  capabilities?: (script: LoadedScript) => CapabilitySet | null;
  /** The MIDI system scripts with net.midi use; default: the native one (createNativeMidiPort). */
  midi?: MidiPort | Promise<MidiPort>;
  /** Native capabilities scripts may be granted (`native.<name>`); default: the ones the daemon ships. */
  native?: NativeRegistry;
  /** Show directory for scripts not loaded from one (in-memory catalogs); a show's scripts use their own. */
  showDir?: string;
  /** Writes a user script's file (updateScriptSource); default: the file system. */
  writeFile?: (file: string, text: string) => Promise<void>;
  /** Every configured script id (see configuredScriptIds): what startAutostart() looks through. */
  scriptIds?: () => readonly string[];
  /** How long past its shutdown_timeout a stopped background script may take before it is killed (default 5 s). */
  stopGraceMs?: number;
  /** Timers for restart backoff and stop escalation (tests may control them). */
  timers?: { setTimeout: (fn: () => void, ms: number) => unknown; clearTimeout: (t: unknown) => void };
  /** Times core.sleep (and so core.race timeouts) of every run; default: real time in the worker. */
  sleep?: (ms: number, runId: string) => Promise<void>;
  /** The network a run's osc/http modules use (simulated in openprod test); default: the real one. */
  ioSeams?: (runId: string) => IoSeams;
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
  /** A background run: no run time limit (it lives until stopped). */
  background?: boolean;
  /** Internal: a replay of a recorded run (see runtime.replay). */
  replay?: ReplayRunInput;
  /**
   * Record where the run's time went (RunResult.profile, kept in the run record); default: the
   * script's `profile` setting. An object sets the Lua sample rate.
   */
  profile?: boolean | { sampleEvery?: number };
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
  /** How on_shutdown() went, when the script defines one. */
  shutdown?: ShutdownOutcome;
  /** Where the time went, when the run was profiled. */
  profile?: ScriptProfile;
}

export interface RunStart {
  runId: string;
  script: string;
  done: Promise<RunResult>;
  /**
   * Soft stop: context.cancelled() turns true, core.await returns nil, on_shutdown() runs.
   * With a `cause`, the run ends with that error instead of "cancelled" (a revoked permission).
   */
  cancel(reason: string, cause?: RunError, opts?: CancelOptions): void;
  /** Hard stop: the run ends at once (on_shutdown does not run or is cut short). */
  kill(reason: string, graceMs?: number): void;
}

export interface CancelOptions {
  /** A session run's overlay is kept for review instead of discarded (the CLI asks on Ctrl-C). */
  keepOverlay?: boolean;
}

/** A run a cancel request stopped, once it ended. */
export interface CancelledRun {
  runId: string;
  script: string;
  /** one-shot (manual or trigger) or background (stopped: no restart follows). */
  kind: "one-shot" | "background";
  result: RunResult;
}

export interface ScriptRuntime {
  run(scriptId: string, opts?: RunOptions): RunStart;
  /**
   * Stops every running run of `target` (a run id, or a script id: all its runs), whatever
   * started it (a person, a trigger, the background supervisor), with the spec's cancellation
   * semantics, and waits until they ended. Nothing running matches: EntityNotFound.
   */
  cancel(target: string, reason: string, opts?: CancelOptions): Promise<CancelledRun[]>;
  /** Compiles the script without running it: null, or the syntax error with file, line and column. */
  check(scriptId: string): Promise<SyntaxProblem | null>;
  /** Open sessions, including those restored from the store after a restart. */
  sessions(): Promise<SessionSummary[]>;
  commitSession(sessionId: string, user?: string): Promise<CommitOutcome>;
  discardSession(sessionId: string): Promise<void>;
  resolveSessionConflict(sessionId: string, conflictId: string, choice: "script" | "canonical"): Promise<void>;
  resolveSessionBulk(sessionId: string, choice: "script" | "canonical"): Promise<number>;
  runRecord(runId: string): Promise<RunRecord | undefined>;
  /** Runs still going (any mode). */
  running(): { runId: string; script: string }[];

  /** Starts a `mode = "background"` script; a no-op when it already runs. */
  startBackground(scriptId: string, opts?: StartBackgroundOptions): Promise<BackgroundStatus>;
  /** Cancels it (on_shutdown runs) and waits until it ended; no restart follows. */
  stopBackground(scriptId: string, reason: string): Promise<BackgroundStatus>;
  restartBackground(scriptId: string): Promise<BackgroundStatus>;
  /** Every background script started since the runtime was built: state, run, restarts, last error. */
  backgroundStatus(): BackgroundStatus[];
  /** Starts every configured background script with `autostart = true`. */
  startAutostart(): Promise<BackgroundStatus[]>;
  /**
   * Hot reload: checks the new source and, when it compiles, uses it for every later run and
   * restarts the script if it runs in the background. A broken edit leaves the old version
   * running and emits script.reload_rejected with file, line and column.
   */
  reloadScript(scriptId: string, newSource: string): Promise<ReloadResult>;
  /**
   * The script's file changed on disk (the show watcher): later runs read the file as it is
   * now (a source given by reloadScript no longer wins), so a file that does not parse makes
   * them fail with file:line:col rather than run an older version. A running background
   * script restarts on the new version when it parses; otherwise it keeps its running version
   * and script.reload_rejected says so. Throws what loading the script throws (no file).
   */
  fileChanged(scriptId: string): Promise<ReloadResult>;
  /**
   * A capability was taken away: runs of the script still going end with PermissionDenied
   * (session overlays kept for review), the user is told, later runs do without it.
   */
  revokeCapability(scriptId: string, capability: string): string[];
  /**
   * Replays a recorded run: its recorded script version (and modules), snapshot heads, seed,
   * file contents and dialog answers, in a scratch overlay that is discarded; says whether it
   * made the same ops, and where they first differ.
   */
  replay(runId: string): Promise<ReplayResult>;
  /** A show's files changed (see watchShow): later runs load scripts and capabilities from these. */
  updateShow(next: { scripts?: ScriptCatalog; capabilities?: ScriptRuntimeOptions["capabilities"] }): void;
  /** Replaces a user script's source (checked first); a module script is read-only: PermissionDenied. */
  updateScriptSource(scriptId: string, source: string): Promise<void>;
  /** Daemon shutdown / workspace closed: stops background scripts and cancels every run. */
  shutdown(reason: string): Promise<void>;
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

/** Stands in for MIDI in runs that may not use it (their midi module is not installed). */
const NO_MIDI: MidiPort = {
  unavailable: "this run has no net.midi capability",
  listInputs: () => [],
  listOutputs: () => [],
  openInput: () => {
    throw new PermissionDenied("using MIDI needs capability \"net.midi\"", {});
  },
  openOutput: () => {
    throw new PermissionDenied("using MIDI needs capability \"net.midi\"", {});
  },
};

const LOCAL_PREFIX = "\u0000local:";
/** How long a run whose permission was revoked may take to stop before its worker is terminated. */
const REVOKE_GRACE_MS = 50;
const HLC_BINDING = "rt.context.hlc_time";

/**
 * The bindings whose answers come from outside the snapshot: show I/O (osc, midi, http), files
 * and native capabilities (everything the gate adds but require(), whose sources are recorded
 * by hash), and the clock (`context.hlc_time()`).
 */
function externalBindings(all: Record<string, HostBinding>, io: Record<string, HostBinding>, gated: Record<string, HostBinding>): Set<string> {
  const names = new Set<string>([...Object.keys(io), ...Object.keys(gated).filter((n) => !n.startsWith("__require."))]);
  if (all[HLC_BINDING]) names.add(HLC_BINDING);
  return names;
}
/**
 * A background run has no run time limit; the engine still needs a deadline, so one that a
 * show never reaches and that fits a timer (2^31 ms): ~23 days.
 */
const BACKGROUND_TIMEOUT_MS = 2_000_000_000;

function sleepBinding(sleep: (ms: number, runId: string) => Promise<void>, runId: string): HostBinding {
  return { kind: "async", expose: false, fn: async ([ms]) => (await sleep(Number(ms), runId), null) };
}

export function createScriptRuntime(opts: ScriptRuntimeOptions): ScriptRuntime {
  const { store, engine, events, dialogs } = opts;
  let scripts = opts.scripts;
  let capabilityOf = opts.capabilities;
  const native = opts.native ?? defaultNativeRegistry();
  const gates = new Map<string, RunGate>();
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

  /** Sources given by reloadScript: they win over the catalog's from then on. */
  const reloaded = new Map<string, string>();
  /** Capabilities revoked per script while the daemon runs. */
  const revoked = new Map<string, Set<string>>();
  const live = new Map<string, RunStart>();
  let midiPort: Promise<MidiPort> | null = null;
  const midi = (): Promise<MidiPort> => (midiPort ??= Promise.resolve(opts.midi ?? createNativeMidiPort()));

  const loadScript = async (scriptId: string): Promise<LoadedScript> => {
    const script = await scripts.load(scriptId);
    const source = reloaded.get(scriptId);
    return source === undefined ? script : { ...script, source, hash: contentHash(source) };
  };

  const runIo = async (runId: string, sr: ScriptRun, gate: RunGate, replaying: boolean): Promise<RunIo> => {
    const caps = gate.current();
    return wireRunIo({
      capabilities: gate.current,
      runId,
      // A replay answers MIDI calls from its recording: the MIDI system is not even opened.
      midi: caps.has("net.midi") && !replaying ? await midi() : NO_MIDI,
      log: (level, msg) => sr.logLine(level, [msg]),
      record: (input) => sr.inputs.push({ kind: input.kind, value: input.data }),
      seams: opts.ioSeams?.(runId),
    });
  };

  function run(scriptId: string, ro: RunOptions = {}): RunStart {
    const runId = `run-${store.newEntityId()}`;
    const requested = performance.now();
    let handle: RunHandle | null = null;
    let cancelled: string | null = null;
    let killed: string | null = null;
    let killGrace: number | undefined;
    let cause: RunError | null = null;
    let keepOverlay = false;
    const done = (async (): Promise<RunResult> => {
      const startedAt = clock();
      const seed = ro.replay?.seed ?? Math.floor(random() * 2 ** 31);
      const heads = ro.replay?.heads ?? store.heads();
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
        script = ro.replay?.script ?? (await loadScript(scriptId));
      } catch (e) {
        const err = e as { code?: string; message: string; details?: Record<string, HostValue> };
        return record({ ...base, status: "error", error: { type: err.code ?? "InternalError", message: err.message, details: err.details } }, {});
      }
      const problem = await engine.checkSyntax(script.source, script.chunkName);
      if (problem) {
        return record({ ...base, status: "error", error: { ...problem, message: `${problem.file}:${problem.line}:${problem.column}: ${problem.message}` } }, { hash: script.hash });
      }
      if (killed !== null || cancelled !== null) {
        const status: RunStatus = killed !== null ? "killed" : cause ? "error" : "cancelled";
        return record({ ...base, status, error: cause ?? undefined }, { hash: script.hash });
      }
      const mode = ro.mode ?? script.config.executionMode;
      const capabilities = ro.replay ? ro.replay.capabilities : (capabilityOf?.(script) ?? null);
      const loaded = script;
      let sink: ScriptRun | null = null;
      const gate = createRunGate({
        script,
        schema: store.schema,
        granted: capabilities instanceof CapabilitySet ? capabilities : null,
        revoked: () => revoked.get(loaded.id),
        showDir: ro.replay?.showDir ?? showDirOf(script) ?? opts.showDir ?? null,
        native,
        moduleFiles: ro.replay?.moduleFiles,
        record: (i) => sink?.inputs.push(i),
        logError: (m) => sink?.logLine("error", [m]),
      });
      gates.set(runId, gate);
      const autoOps: Operation[] = [];
      const autoMarks: number[] = [];
      const tape = new InputTape();
      const runDialogs = ro.replay?.dialogs ?? dialogs;
      const moduleOrigin = script.module ? { module: script.module } : {};
      const sr: ScriptRun = new ScriptRun(
        {
          store: mode === "autoCommit" ? capturingStore(store, autoOps, () => autoMarks.push(tape.size)) : store,
          emit,
          dialogs: runDialogs,
          log: opts.log,
          adopt: (s) => open.set(s.id, s),
          capabilities: gate.capabilities,
          // Every bundle says which external data it came from: the inputs consumed so far.
          originExtra: () => ({ ...moduleOrigin, ...(sr.inputs.size > 0 || tape.size > 0 ? { inputs: { count: sr.inputs.size, tape: tape.size, digest: sr.inputs.digest() } } : {}) }),
          inputMark: () => tape.size,
        },
        runId,
        withRunHash(script, gate),
        mode,
        heads,
        store.hlcNow(),
        ro.user,
        ro.chain,
      );
      sink = sr;
      const io = await runIo(runId, sr, gate, ro.replay !== undefined);
      if (mode === "session") sr.currentSession();
      emit({ type: "run.started", runId, script: script.id });
      const { key, source } = schemaForWorker(store.schema);
      const workerOptions: SessionWorkerOptions = { schemaKey: key, schema: source, batch: mode === "session" && (capabilities === null || gate.capabilities !== null), gate: gate.worker };
      const onError = script.config.onError;
      const engineStart = performance.now();
      const direct: Record<string, HostBinding> = {
        ...gate.wrap(sr.bindings(), { inShutdown: () => sr.shutdownStarted, lateSkip: (x) => sr.lateSkips.push(x) }),
        ...gate.bindings,
        ...(ro.replay ? { "rt.core.commit": { kind: "sync" as const, expose: false, fn: () => ({ v: { ok: true } }) } } : {}),
        ...io.bindings,
        [PHASE_BINDING]: { kind: "event", fn: (a) => void (a[0] === "shutdown" && sr.enterShutdown()) },
        [TIMING_BINDING]: { kind: "event", expose: false, fn: (a) => tape.note(a[0] === "race" ? "core.race" : "core.sleep", a[1] ?? null) },
        ...(opts.sleep ? { [SLEEP_BINDING]: sleepBinding(opts.sleep, runId) } : {}),
      };
      // Calls that reach outside the snapshot: recorded on the tape; in a replay answered from it.
      const external = externalBindings(direct, io.bindings, gate.bindings);
      let ranOut: TapeRanOut | null = null;
      const answered = ro.replay ? replayedBindings(direct, external, ro.replay.tape, (r) => void (ranOut ??= r)) : direct;
      const bindings = tape.wrap(answered, external);
      const profiling = ro.profile ?? script.config.profile;
      handle = engine.run({
        runId,
        chunkName: script.chunkName,
        source: script.source,
        globals: {
          args: JSON.parse(JSON.stringify(ro.args ?? {})) as HostValue,
          __run: JSON.parse(JSON.stringify({ ...(ro.context ?? {}), user: ro.user ?? null })) as HostValue,
        },
        bindings,
        workerModules: [{ path: WORKER_MODULE, options: workerOptions as unknown as HostValue }],
        preludeLua: `${PRELUDE}\n${gate.preludeLua}\n${io.prelude}\n${backgroundPreludeLua}`,
        seed,
        ...(ro.replay ? { replayTiming: { races: recordedRaces(ro.replay.tape) } } : {}),
        ...(profiling === false ? {} : { profile: { ...(profiling === true ? {} : profiling), keyByFirstArg: [...QUERY_FUNCTIONS] } }),
        limits: {
          timeoutMs: ro.background ? BACKGROUND_TIMEOUT_MS : script.config.timeoutMs,
          memoryBytes: script.config.memoryBytes,
          shutdownTimeoutMs: script.config.shutdownTimeoutMs,
        },
        onUnhandledError: async (err, binding) => {
          if (onError === "skip") return "skip";
          if (onError === "abort") return "abort";
          const name = binding.startsWith(LOCAL_PREFIX) ? binding.slice(LOCAL_PREFIX.length) : binding;
          const answer = await runDialogs.ask({
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
      if (killed !== null) handle.kill(killed, killGrace);
      else if (cancelled !== null) handle.cancel(cancelled);
      let outcome;
      try {
        outcome = await handle.done;
      } finally {
        io.close();
        gate.close();
        gates.delete(runId);
      }

      const skips: RunSkip[] = [
        ...outcome.skips.map((s) => ({
          binding: s.binding.startsWith(LOCAL_PREFIX) ? s.binding.slice(LOCAL_PREFIX.length) : s.binding,
          error: { type: s.error.type, message: s.error.message, file: s.error.file, line: s.error.line },
        })),
        ...sr.lateSkips,
      ];
      let status: RunStatus = outcome.status;
      let error: RunError | undefined = outcome.error;
      if (cause !== null && (status === "cancelled" || status === "error" || status === "killed")) {
        status = "error";
        error = cause;
      }
      for (const s of sr.sessions) {
        try {
          await s.flush();
        } catch (e) {
          status = "error";
          error = { type: "StorageError", message: (e as Error).message };
        }
      }
      // main's session: kept for review when the run went well or lost a permission, else
      // discarded (a cancelled run leaves nothing behind).
      const last = sr.shutdownStarted ? sr.mainSession : sr.session;
      if (last && last.status === "open") {
        const keepForReview = status === "ok" || error?.type === "PermissionDenied" || (status === "cancelled" && keepOverlay);
        if (!keepForReview || last.overlay.size === 0) await last.discard();
      }
      // on_shutdown's session: its bundle commits when it finished in time, else rolls back.
      const closing = sr.shutdownStarted ? sr.session : null;
      if (closing && closing.status === "open") {
        if (outcome.shutdown?.status === "ok" && closing.overlay.size > 0) {
          const r = await closing.commit({ actor: sr.actor, origin: sr.origin() });
          if (r.status === "committed" && r.hash) sr.bundles++;
        } else {
          await closing.discard();
        }
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
      if (outcome.shutdown) result.shutdown = outcome.shutdown;
      if (outcome.profile) result.profile = scriptProfile(outcome.profile, sr.ops, outcome.endedAt - outcome.startedAt);
      const extra = await finishRun({ store, gate, sr, script, autoOps, autoMarks, tape: tape.toRecord(), ranOut, origin: sr.origin(), replay: ro.replay });
      if (ro.replay && result.sessionStatus === "open") result.sessionStatus = "discarded";
      return record(result, { ...extra, mode, inputs: sr.inputs.toRecord(), log: sr.lines, ...(result.profile ? { profile: result.profile } : {}) });
    })();
    const start: RunStart = {
      runId,
      script: scriptId,
      done,
      cancel(reason: string, why?: RunError, co?: CancelOptions) {
        if (co?.keepOverlay) keepOverlay = true;
        if (cancelled !== null) return;
        cancelled = reason;
        if (why) cause = why;
        handle?.cancel(reason);
      },
      kill(reason: string, graceMs?: number) {
        if (killed !== null) return;
        killed = reason;
        killGrace = graceMs;
        handle?.kill(reason, graceMs);
      },
    };
    live.set(runId, start);
    void done.finally(() => live.delete(runId));
    return start;
  }

  const background = new BackgroundScripts({
    run,
    load: loadScript,
    emit,
    clock,
    timers: opts.timers,
    scriptIds: opts.scriptIds,
    stopGraceMs: opts.stopGraceMs,
  });

  /**
   * The gate a person's commit of a script's session passes: the script's grant as it is now,
   * so one narrowed since the run is honoured. A script no longer configured may write nothing.
   */
  const commitGate = async (scriptId: string): Promise<WriteGate | undefined> => {
    if (!capabilityOf) return undefined;
    const script = await loadScript(scriptId).catch(() => null);
    const granted = script ? capabilityOf(script) : CapabilitySet.none;
    if (granted === null) return undefined;
    const inForce = grantInForce(granted, revoked.get(scriptId));
    return writeGate(() => inForce, store.schema, scriptId);
  };

  const runtimeApi: ScriptRuntime = {
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
      const origin: Record<string, unknown> = { script: s.meta.scriptId, hash: s.meta.hash, runId: s.meta.runId, ...(s.meta.origin ?? {}) };
      if (s.meta.chain !== undefined && s.meta.chain !== null) origin.chain = s.meta.chain;
      if (user) origin.committedBy = user;
      const gate = await commitGate(s.meta.scriptId);
      const r = await s.commit({ actor: { kind: "script", name: s.meta.scriptId, runId: s.meta.runId }, origin, ...(gate ? { gate } : {}) });
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
    async cancel(target, reason, co = {}) {
      const matching = [...live.values()].filter((r) => r.runId === target || r.script === target);
      if (matching.length === 0) {
        const going = [...live.values()].map((r) => `${r.runId} (${r.script})`);
        throw new EntityNotFound(`nothing to cancel: no running run ${target.startsWith("run-") ? target : `of script "${target}"`} (running: ${going.slice(0, 5).join(", ") || "none"})`, { target, running: going.length });
      }
      const bg = new Map(background.status().filter((b) => b.runId !== null).map((b) => [b.runId as string, b.id]));
      return Promise.all(
        matching.map(async (r): Promise<CancelledRun> => {
          const bgId = bg.get(r.runId);
          // A background script is stopped through its supervisor, so it does not restart it.
          if (bgId !== undefined) await background.stop(bgId, reason);
          else {
            r.cancel(reason, undefined, co);
            // A script that ignores cancellation (busy without awaiting) must still stop: killed
            // once on_shutdown had its time and the grace after it, as a background script is.
            const script = await loadScript(r.script).catch(() => null);
            const ms = (script?.config.shutdownTimeoutMs ?? 5000) + (opts.stopGraceMs ?? STOP_GRACE_MS);
            const t = setTimeout(() => r.kill(`${reason}: still running ${ms} ms after it was asked to stop`), ms);
            await r.done.finally(() => clearTimeout(t));
          }
          return { runId: r.runId, script: r.script, kind: bgId !== undefined ? "background" : "one-shot", result: await r.done };
        }),
      );
    },
    runRecord: (runId) => readRunRecord(store, runId),
    running: () => [...live.values()].map((r) => ({ runId: r.runId, script: r.script })),
    startBackground: (id, o) => background.start(id, o),
    stopBackground: (id, reason) => background.stop(id, reason),
    restartBackground: (id) => background.restart(id, "user"),
    backgroundStatus: () => background.status(),
    startAutostart: () => background.startAutostart(),
    async reloadScript(scriptId, newSource) {
      const script = await loadScript(scriptId);
      const problem = await engine.checkSyntax(newSource, script.chunkName);
      if (problem) {
        const message = `${problem.file}:${problem.line}:${problem.column}: ${problem.message}; the previous version keeps running`;
        emit({ type: "script.reload_rejected", script: scriptId, file: problem.file, line: problem.line, column: problem.column, message });
        return { ok: false, problem };
      }
      reloaded.set(scriptId, newSource);
      const restarted = await background.reloaded(scriptId);
      emit({ type: "script.reloaded", script: scriptId, hash: contentHash(newSource), restarted });
      return { ok: true, restarted };
    },
    async fileChanged(scriptId) {
      reloaded.delete(scriptId);
      const script = await scripts.load(scriptId);
      const problem = await engine.checkSyntax(script.source, script.chunkName);
      if (problem) {
        const bg = background.status().find((b) => b.id === scriptId);
        const going = bg?.state === "running";
        const message = `${problem.file}:${problem.line}:${problem.column}: ${problem.message}; ${
          going ? "the background script keeps running its previous version; runs" : "runs"
        } of it are refused until the file is fixed`;
        emit({ type: "script.reload_rejected", script: scriptId, file: problem.file, line: problem.line, column: problem.column, message });
        return { ok: false, problem };
      }
      const restarted = await background.reloaded(scriptId);
      emit({ type: "script.reloaded", script: scriptId, hash: script.hash, restarted });
      return { ok: true, restarted };
    },
    revokeCapability(scriptId, capability) {
      let set = revoked.get(scriptId);
      if (!set) revoked.set(scriptId, (set = new Set()));
      set.add(capability);
      const message = `script "${scriptId}": capability "${capability}" was revoked while it ran; the run was stopped (a session overlay is kept for review)`;
      const denied = new PermissionDenied(message, { script: scriptId, capability });
      const cause: RunError = { type: denied.code, message, details: { script: scriptId, capability } };
      background.revoked(scriptId, cause);
      const runs: string[] = [];
      for (const r of live.values()) {
        if (r.script !== scriptId) continue;
        gates.get(r.runId)?.revoke(capability, cause);
        // The spec: the script exits immediately. A soft stop would let it run on past an await
        // or spin in a loop; the kill cannot be caught by pcall or skipped by on_error, and a
        // script stuck in one long C call loses its worker after REVOKE_GRACE_MS.
        r.cancel(`permission revoked: ${capability}`, cause);
        r.kill(`permission revoked: ${capability}`, REVOKE_GRACE_MS);
        runs.push(r.runId);
      }
      emit({ type: "script.permission_revoked", script: scriptId, capability, runs, message });
      return runs;
    },
    replay: (runId) => replayRun({ store, run, readRecord: (id) => readRunRecord(store, id) }, runId),
    updateShow(next) {
      if (next.scripts) scripts = next.scripts;
      if (next.capabilities) {
        capabilityOf = next.capabilities;
        // The configuration now says what each script may do: a capability given back by this
        // edit is in force for the next run (runs already stopped by a revocation stay stopped).
        revoked.clear();
      }
    },
    updateScriptSource: (scriptId, source) =>
      updateScriptSource({ load: loadScript, checkSyntax: (src, chunk) => engine.checkSyntax(src, chunk), writeFile: opts.writeFile, reload: (id, src) => runtimeApi.reloadScript(id, src) }, scriptId, source),
    async shutdown(reason) {
      await background.shutdown(reason);
      const rest = [...live.values()];
      for (const r of rest) r.cancel(reason);
      await Promise.all(rest.map((r) => r.done));
    },
  };
  return runtimeApi;
}
