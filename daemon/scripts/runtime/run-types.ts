/**
 * What a run is asked to do and what it reports: the words the runtime, its background
 * supervisor (background.ts) and replay (replay-run.ts) share, in a file of their own so none
 * of them imports the runtime itself.
 */
import type { DebugLink, RunError, ShutdownOutcome, SyntaxProblem } from "../engine/index.ts";
import type { ReplayRunInput } from "./replay.ts";
import type { RunSkip } from "./run-records.ts";
import type { ScriptProfile } from "./run-profile.ts";
import type { ExecutionMode } from "./script-config.ts";

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
  /** Runs under a debugger (`openprod debug`): see daemon/scripts/debug. */
  debug?: DebugLink;
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

