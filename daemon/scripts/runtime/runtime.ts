/**
 * createScriptRuntime: runs scripts (by id, from a catalog) on the Lua engine against a
 * workspace store, in a session overlay or autoCommit, and keeps their sessions until a
 * script or a person commits or discards them. One run's lifecycle is run-lifecycle.ts; open
 * sessions are session-registry.ts; the Lua API's handlers are lua-api-handlers.ts.
 */
import { EntityNotFound, PermissionDenied } from "../../crdt/index.ts";
import type { WorkspaceStore, WriteGate } from "../../crdt/index.ts";
import type { DebugLink, LuaEngine, RunError, SyntaxProblem } from "../engine/index.ts";
import { createNativeMidiPort } from "../io/index.ts";
import type { IoSeams, MidiPort } from "../io/index.ts";
import { CapabilitySet, writeGate } from "../capabilities/index.ts";
import type { NativeRegistry } from "../native/index.ts";
import { BackgroundScripts, STOP_GRACE_MS } from "./background.ts";
import type { BackgroundStatus, ReloadResult, StartBackgroundOptions } from "./background.ts";
import type { Dialogs, RuntimeEvents } from "./events.ts";
import { startRun } from "./run-lifecycle.ts";
import type { RunContext } from "./run-lifecycle.ts";
import { RunRecordStore } from "./run-records.ts";
import type { RunRecord } from "./run-records.ts";
import type { CancelledRun, CancelOptions, RunOptions, RunStart } from "./run-types.ts";
import { contentHash } from "./script-catalog.ts";
import type { LoadedScript, ScriptCatalog } from "./script-catalog.ts";
import { defaultNativeRegistry, grantInForce } from "./run-gating.ts";
import type { RunGate } from "./run-gating.ts";
import type { ReplayResult } from "./replay.ts";
import { replayRun } from "./replay-run.ts";
import { updateScriptSource } from "./script-source.ts";
import { SessionRegistry } from "./session-registry.ts";
import { memoizedSyntaxCheck } from "./syntax-memo.ts";
import { ScriptSourceStore } from "./script-source-store.ts";
import type { CommitOutcome, SessionSummary } from "./session.ts";

// The run's own words live in run-types.ts (background.ts and replay-run.ts use them too).
export type { CancelledRun, CancelOptions, RunOptions, RunResult, RunStart, RunStatus } from "./run-types.ts";

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
  /** Times core.sleep (and so core.race timeouts) of every run; default: real time in the worker. */
  sleep?: (ms: number, runId: string) => Promise<void>;
  /** The network a run's osc/http modules use (simulated in openprod test); default: the real one. */
  ioSeams?: (runId: string) => IoSeams;
  /**
   * Asked at each run's start whether a debugger waits for it (`openprod debug --attach`):
   * a link makes the run wait for that debugger and run under it.
   */
  debugger?: (run: { runId: string; script: string; chunkName: string }) => DebugLink | undefined;
  /** How long past its shutdown_timeout a stopped background script may take before it is killed (default 5 s). */
  stopGraceMs?: number;
  /** Timers for restart backoff and stop escalation (tests may control them). */
  timers?: { setTimeout: (fn: () => void, ms: number) => unknown; clearTimeout: (t: unknown) => void };
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


/** How long a run whose permission was revoked may take to stop before its worker is terminated. */
const REVOKE_GRACE_MS = 50;

export function createScriptRuntime(opts: ScriptRuntimeOptions): ScriptRuntime {
  const { store, engine, events, dialogs } = opts;
  let scripts = opts.scripts;
  let capabilityOf = opts.capabilities;
  const gates = new Map<string, RunGate>();
  const clock = opts.clock ?? Date.now;
  const emit = events.emit.bind(events);
  const sessions = new SessionRegistry({ store, emit });
  const runRecords = new RunRecordStore(store);

  /** Sources given by reloadScript: they win over the catalog's from then on. */
  const reloaded = new Map<string, string>();
  /** Capabilities revoked per script while the daemon runs. */
  const revoked = new Map<string, Set<string>>();
  const live = new Map<string, RunStart>();
  let midiPort: Promise<MidiPort> | null = null;

  const loadScript = async (scriptId: string): Promise<LoadedScript> => {
    const script = await scripts.load(scriptId);
    const source = reloaded.get(scriptId);
    return source === undefined ? script : { ...script, source, hash: contentHash(source) };
  };

  const runContext: RunContext = {
    store,
    engine: { run: (req) => engine.run(req), checkSyntax: memoizedSyntaxCheck((source, chunk) => engine.checkSyntax(source, chunk)) },
    emit,
    dialogs,
    clock,
    random: opts.random ?? Math.random,
    log: opts.log,
    native: opts.native ?? defaultNativeRegistry(),
    showDir: opts.showDir,
    runRecords,
    sources: new ScriptSourceStore(store),
    loadScript,
    capabilities: (script) => capabilityOf?.(script) ?? null,
    revoked: (scriptId) => revoked.get(scriptId),
    gates,
    adopt: (s) => sessions.adopt(s),
    forget: (s) => sessions.forget(s),
    midi: () => (midiPort ??= Promise.resolve(opts.midi ?? createNativeMidiPort())),
    debugger: opts.debugger,
    sleep: opts.sleep,
    ioSeams: opts.ioSeams,
  };

  function run(scriptId: string, ro: RunOptions = {}): RunStart {
    const start = startRun(runContext, scriptId, ro);
    live.set(start.runId, start);
    void start.done.finally(() => live.delete(start.runId));
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
    sessions: () => sessions.list(),
    commitSession: (sessionId, user) => sessions.commit(sessionId, user, commitGate),
    discardSession: (sessionId) => sessions.discard(sessionId),
    resolveSessionConflict: (sessionId, conflictId, choice) => sessions.resolve(sessionId, conflictId, choice),
    resolveSessionBulk: (sessionId, choice) => sessions.resolveBulk(sessionId, choice),
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
    runRecord: (runId) => runRecords.read(runId),
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
      scripts.changed?.(scriptId);
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
    replay: (runId) => replayRun({ store, run, readRecord: (id) => runRecords.read(id) }, runId),
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
