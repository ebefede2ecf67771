/**
 * The run lifecycle: one run of a script from request to run record (startRun), with what it
 * needs from the runtime (RunContext) and nothing else of it.
 */
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import type { Operation, Schema, SchemaSource, WorkspaceStore } from "../../crdt/index.ts";
import { SLEEP_BINDING, TIMING_BINDING } from "../engine/index.ts";
import type { DebugLink, HostBinding, HostValue, LuaEngine, RunError, RunHandle } from "../engine/index.ts";
import { CapabilitySet } from "../capabilities/index.ts";
import type { IoSeams, MidiPort } from "../io/index.ts";
import type { NativeRegistry } from "../native/index.ts";
import { backgroundPreludeLua, PHASE_BINDING } from "./background-prelude.ts";
import type { Dialogs, RuntimeEvent } from "./events.ts";
import { InputTape, recordedRaces, replayedBindings } from "./input-tape.ts";
import type { TapeRanOut } from "./input-tape.ts";
import { wireRunIo } from "./io-wiring.ts";
import type { RunIo } from "./io-wiring.ts";
import { apiBindings } from "./lua-api-handlers.ts";
import { capturingStore, finishRun, withRunHash } from "./replay.ts";
import { createRunGate, showDirOf } from "./run-gating.ts";
import type { RunGate } from "./run-gating.ts";
import { QUERY_FUNCTIONS, scriptProfile } from "./run-profile.ts";
import type { RunRecord, RunRecordStore, RunSkip } from "./run-records.ts";
import type { ScriptSourceStore } from "./script-source-store.ts";
import type { CancelOptions, RunOptions, RunResult, RunStart, RunStatus } from "./run-types.ts";
import type { LoadedScript } from "./script-catalog.ts";
import { ScriptRun } from "./script-run.ts";
import type { Session } from "./session.ts";
import type { SessionWorkerOptions } from "./session-worker.ts";

/** What a run needs from the runtime that starts it. */
export interface RunContext {
  store: WorkspaceStore;
  engine: Pick<LuaEngine, "run" | "checkSyntax">;
  emit: (e: RuntimeEvent) => void;
  dialogs: Dialogs;
  clock: () => number;
  random: () => number;
  log?: (entry: { level: string; message: string; runId: string; script: string }) => void;
  native: NativeRegistry;
  /** Show directory for scripts not loaded from one. */
  showDir?: string;
  runRecords: RunRecordStore;
  /** Script and module sources by hash, for run records (one store for every run). */
  sources: ScriptSourceStore;
  /** The script as later runs see it (a reloaded source wins over the catalog's). */
  loadScript(scriptId: string): Promise<LoadedScript>;
  /** The capabilities the script runs with now; null: an ungated run. */
  capabilities(script: LoadedScript): CapabilitySet | null;
  /** Capabilities revoked from the script while the daemon runs. */
  revoked(scriptId: string): ReadonlySet<string> | undefined;
  /** Gates of the runs going, by run id (a revocation reaches them here). */
  gates: Map<string, RunGate>;
  /** The session registry: sessions the run opens, and forgets once they are closed. */
  adopt(s: Session): void;
  forget(s: Session): void;
  /** The MIDI system (opened on first use). */
  midi(): Promise<MidiPort>;
  /** Times core.sleep (and so core.race timeouts) of every run; absent: real time in the worker. */
  sleep?: (ms: number, runId: string) => Promise<void>;
  /** The network a run's osc/http modules use (simulated in openprod test); absent: the real one. */
  ioSeams?: (runId: string) => IoSeams;
  /** Whether a debugger waits for this run (`openprod debug --attach`): see ScriptRuntimeOptions.debugger. */
  debugger?: (run: { runId: string; script: string; chunkName: string }) => DebugLink | undefined;
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
  // The capability's own refusal, in the words every refused call uses.
  openInput: () => {
    throw CapabilitySet.none.denied({ kind: "net.midi" });
  },
  openOutput: () => {
    throw CapabilitySet.none.denied({ kind: "net.midi" });
  },
};

const LOCAL_PREFIX = "\u0000local:";
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

async function runIo(ctx: RunContext, runId: string, sr: ScriptRun, gate: RunGate, replaying: boolean): Promise<RunIo> {
  const caps = gate.current();
  return wireRunIo({
    capabilities: gate.current,
    runId,
    // A replay answers MIDI calls from its recording: the MIDI system is not even opened.
    midi: caps.has("net.midi") && !replaying ? await ctx.midi() : NO_MIDI,
    log: (level, msg) => sr.logLine(level, [msg]),
    record: (input) => sr.inputs.push({ kind: input.kind, value: input.data }),
    seams: ctx.ioSeams?.(runId),
  });
}

/**
 * Starts one run: loads and checks the script, builds its gate, I/O and bindings, runs it on
 * the engine, settles its sessions (kept for review, committed or discarded), and writes its
 * run record. The returned handle cancels or kills it.
 */
export function startRun(ctx: RunContext, scriptId: string, ro: RunOptions = {}): RunStart {
  const { store, engine, emit, dialogs, clock, random, native, gates, runRecords } = ctx;
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
      await runRecords.write({
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
      script = ro.replay?.script ?? (await ctx.loadScript(scriptId));
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
    const capabilities = ro.replay ? ro.replay.capabilities : ctx.capabilities(script);
    const loaded = script;
    let sink: ScriptRun | null = null;
    const gate = createRunGate({
      script,
      schema: store.schema,
      granted: capabilities instanceof CapabilitySet ? capabilities : null,
      revoked: () => ctx.revoked(loaded.id),
      showDir: ro.replay?.showDir ?? showDirOf(script) ?? ctx.showDir ?? null,
      native,
      moduleFiles: ro.replay?.moduleFiles,
      fsSeams: ctx.ioSeams?.(runId).fs,
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
        log: ctx.log,
        adopt: (s) => ctx.adopt(s),
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
    const io = await runIo(ctx, runId, sr, gate, ro.replay !== undefined);
    if (mode === "session") sr.currentSession();
    emit({ type: "run.started", runId, script: script.id });
    const { key, source } = schemaForWorker(store.schema);
    const workerOptions: SessionWorkerOptions = { schemaKey: key, schema: source, batch: mode === "session" && (capabilities === null || gate.capabilities !== null), gate: gate.worker };
    const onError = script.config.onError;
    const engineStart = performance.now();
    const direct: Record<string, HostBinding> = {
      ...gate.wrap(apiBindings(sr), { inShutdown: () => sr.shutdownStarted, lateSkip: (x) => sr.lateSkips.push(x) }),
      ...gate.bindings,
      ...(ro.replay ? { "rt.core.commit": { kind: "sync" as const, expose: false, fn: () => ({ v: { ok: true } }) } } : {}),
      ...io.bindings,
      [PHASE_BINDING]: { kind: "event", fn: (a) => void (a[0] === "shutdown" && sr.enterShutdown()) },
      [TIMING_BINDING]: { kind: "event", expose: false, fn: (a) => tape.note(a[0] === "race" ? "core.race" : "core.sleep", a[1] ?? null) },
      ...(ctx.sleep ? { [SLEEP_BINDING]: sleepBinding(ctx.sleep, runId) } : {}),
    };
    // Calls that reach outside the snapshot: recorded on the tape; in a replay answered from it.
    const external = externalBindings(direct, io.bindings, gate.bindings);
    let ranOut: TapeRanOut | null = null;
    const answered = ro.replay ? replayedBindings(direct, external, ro.replay.tape, (r) => void (ranOut ??= r)) : direct;
    const bindings = tape.wrap(answered, external);
    const profiling = ro.profile ?? script.config.profile;
    const debugLink = ro.debug ?? (ro.replay ? undefined : ctx.debugger?.({ runId, script: script.id, chunkName: script.chunkName }));
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
      ...(debugLink ? { debug: debugLink } : {}),
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
    for (const s of sr.sessions) ctx.forget(s);
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
    const extra = await finishRun({ store, gate, sr, script, autoOps, autoMarks, tape: tape.toRecord(), ranOut, origin: sr.origin(), replay: ro.replay, sources: ctx.sources });
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
  return start;
}
