/**
 * The engine's public types: what the script runtime hands in (a run request with
 * host bindings) and what it gets back (a handle, then an outcome).
 */

import type { HostValue } from "./host-value.ts";
// The values crossing between Lua and the host have a file of their own: the debugger's wire (debug-wire.ts) uses them too.
export { LuaFloat } from "./host-value.ts";
export type { HostValue } from "./host-value.ts";

/** Facts about the run a binding is serving. */
export interface RunInfo {
  readonly runId: string;
  readonly chunkName: string;
}

interface BindingFlags {
  /** When it throws outside any pcall/xpcall, ask `onUnhandledError` whether to skip or abort. */
  guarded?: boolean;
  /** false: callable only from worker modules (`ctx.callSync`...), not installed in Lua. Default true. */
  expose?: boolean;
}

export type HostBinding =
  /** Lua blocks until fn settles (fn may be async). */
  | ({ kind: "sync"; fn: (args: HostValue[], run: RunInfo) => HostValue | Promise<HostValue> } & BindingFlags)
  /** Lua gets a future for `core.await`. */
  | ({ kind: "async"; fn: (args: HostValue[], run: RunInfo) => Promise<HostValue> } & BindingFlags)
  /** Fire and forget; calls reach fn in the order Lua made them. */
  | ({ kind: "event"; fn: (args: HostValue[], run: RunInfo) => void } & BindingFlags);

export interface RunLimits {
  timeoutMs: number;
  memoryBytes: number;
  /** Deadline of `on_shutdown()`; default 5000. */
  shutdownTimeoutMs?: number;
}

export interface RunRequest {
  runId: string;
  chunkName: string;
  source: string;
  /** Plain data globals, e.g. `{ args: {...} }`. */
  globals: Record<string, HostValue>;
  /** Keyed by dotted Lua path, e.g. "core.query", "log.info", "ui.toast". */
  bindings: Record<string, HostBinding>;
  /** Absolute paths of TS/JS modules loaded inside the worker, each exporting `install(ctx)`. */
  workerModules?: { path: string; options?: HostValue }[];
  /** Lua run in the sandbox before the script; receives the engine table as `...` (see README in engine/). */
  preludeLua?: string;
  seed: number;
  /**
   * Time as a replay sees it: sleeps end at once, and each core.race is won by the input the
   * recorded run saw win (1-based, in the order the races were made). Absent: real time.
   */
  replayTiming?: { races: number[] };
  limits: RunLimits;
  onUnhandledError?: (err: RunError, binding: string) => Promise<"skip" | "abort"> | "skip" | "abort";
  /** Records where the run's time went (RunOutcome.profile). Absent: no profiling, no cost. */
  profile?: ProfileOptions;
  /**
   * Runs under a debugger (daemon/scripts/debug): the run waits for its "start" request, then
   * stops where the debugger says. It gets a worker of its own, since a paused run holds it.
   */
  debug?: DebugLink;
}

export interface ProfileOptions {
  /** Lua instructions between two stack samples (default DEFAULT_SAMPLE_EVERY). */
  sampleEvery?: number;
  /** Host bindings whose first argument, when a string (a query's text), tells their calls apart. */
  keyByFirstArg?: string[];
}

import type { DebugLink } from "./debug-wire.ts";
import type { ProfileFrame, ScriptProfile } from "../../../protocol/light.ts";

/** Instructions between two samples when ProfileOptions.sampleEvery is not given. */
export const DEFAULT_SAMPLE_EVERY = 1000;

/**
 * Where a run's time went: the wire's ScriptProfile without what only the runtime knows (the
 * operations a run emitted, its wall time). Lua time comes from samples taken every
 * `sampleEvery` instructions (each weighted by the time since the previous one, host calls
 * excluded); host calls and awaits are timed one by one. Stacks list frame indices outermost
 * first. The protocol's types are type-only here: nothing of it loads into a worker.
 */
export type RunProfile = Omit<ScriptProfile, "ops" | "wallMs">;
export type { ProfileFrame };

/**
 * The event binding (give one with this name, kind "event") that hears how timing went, for a
 * run record: `["race", index]` when a core.race settles (index 1-based; null when a replay's
 * recorded outcomes ran out), `["sleep", ms]` when a sleep elapsed.
 */
export const TIMING_BINDING = "engine.timing";

/**
 * The clock seam of core.sleep: give an async binding with this name (`[ms]` → resolves when
 * the sleep is over) and the run's sleeps are timed by it instead of the worker's real timers
 * (openprod test's virtual clock). Absent: real time.
 */
export const SLEEP_BINDING = "engine.sleep";

export interface RunError {
  type: string;
  message: string;
  details?: Record<string, HostValue>;
  file?: string;
  line?: number;
  column?: number;
  traceback?: string;
}

export interface SyntaxProblem {
  type: "SyntaxError";
  file: string;
  line: number;
  column: number;
  message: string;
}

export interface ShutdownOutcome {
  ran: boolean;
  status: "ok" | "error" | "timeout";
  error?: RunError;
}

export interface RunOutcome {
  status: "ok" | "error" | "timeout" | "cancelled" | "killed";
  error?: RunError;
  skips: { binding: string; error: RunError }[];
  shutdown?: ShutdownOutcome;
  startedAt: number;
  firstLineAt?: number;
  endedAt: number;
  /** When the request asked for one. */
  profile?: RunProfile;
}

export interface RunHandle {
  readonly runId: string;
  readonly done: Promise<RunOutcome>;
  /** Soft stop: `engine.cancelled()` turns true and pending/future awaits of main return nil. */
  cancel(reason: string): void;
  /**
   * Hard stop: uncatchable; the worker is terminated if Lua does not stop within `graceMs`
   * (default ~250 ms; a revoked permission asks for less).
   */
  kill(reason: string, graceMs?: number): void;
}

export interface LuaEngineOptions {
  maxWorkers?: number;
  warmWorkers?: number;
  /**
   * Runs one worker may host at once (default 8). Only one executes at a time; the others are
   * parked on core.await. A worker is shared only when `maxWorkers` are all busy.
   */
  maxRunsPerWorker?: number;
  /** Clock for outcome timestamps; performance.now by default. */
  clock?: () => number;
}

export interface LuaEngine {
  checkSyntax(source: string, chunkName: string): Promise<SyntaxProblem | null>;
  run(req: RunRequest): RunHandle;
  /** Terminates every worker; runs still going end as "killed". */
  close(): Promise<void>;
}

/** What a worker module's `install(ctx)` receives. Runs inside the worker, next to Lua. */
export interface WorkerModuleContext {
  readonly runId: string;
  readonly chunkName: string;
  /** The `options` given with this module in the run request. */
  readonly options: HostValue;
  /**
   * Installs a Lua function at a dotted path, implemented here in the worker (no thread hop).
   * kind "sync" (default): fn's return value is returned to Lua; kind "async": fn returns a
   * Promise and Lua gets a future. Throwing an Error with a string `code` raises a typed error.
   */
  define(path: string, fn: (...args: HostValue[]) => HostValue | Promise<HostValue>, opts?: { kind?: "sync" | "async"; guarded?: boolean }): void;
  /** Calls a host binding and blocks until it answers; throws a HostCallError on failure. */
  callSync(name: string, args: HostValue[]): HostValue;
  callAsync(name: string, args: HostValue[]): Promise<HostValue>;
  /** Fires an event binding; ordered with every other call of this run. */
  emit(name: string, args: HostValue[]): void;
  /**
   * Buffered calls should reach the host now: called before the run waits on a pending future
   * (core.await of a sleep, an I/O call, a dialog) and at least every FLUSH_EVERY_MS (50 ms)
   * while Lua runs, so what the script did so far is seen while it is still going.
   */
  onFlushPoint(fn: () => void): void;
  /** Runs after main and on_shutdown, before the outcome is reported: flush buffers here. */
  onFinish(fn: () => void | Promise<void>): void;
  /** True once the run was cancelled. */
  cancelled(): boolean;
}
