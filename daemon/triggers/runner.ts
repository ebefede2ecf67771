/**
 * The seam between triggers and the script runtime: a trigger asks for a run,
 * the runtime runs the script and says how it ended.
 */
import type { CausalChain, TriggerFired } from "../../protocol/index.ts";
// The wire's own words (protocol/): the daemon keeps no second copy of them.
export type { CausalChain };

export interface TriggerRunRequest {
  trigger: string;
  script: string;
  /** Overrides the script's execution_mode when set. */
  mode?: "session" | "autoCommit";
  /** The trigger's `params`, resolved: what the script sees as `args`. */
  args: Record<string, unknown>;
  /** What `context.trigger_entity()`, `trigger_field()`, `old_value()`, `new_value()` return. */
  context: { trigger_entity: string; trigger_field: string; old_value: unknown; new_value: unknown };
  chain: CausalChain;
  /**
   * Set when the trigger has `supersede = true`: the trigger and its scope entity. A run with
   * this key replaces what an earlier run with the same key left: its open session is
   * discarded, or the run cancelled when it is still going.
   */
  supersede?: string;
}

/** What fired, in the words every observer of a firing uses (the socket's `trigger.fired` without its chain, a test's list). */
export type FiringDescription = Omit<TriggerFired, "chain">;

export function describeFiring(req: TriggerRunRequest): FiringDescription {
  return {
    trigger: req.trigger,
    script: req.script,
    entity: req.context.trigger_entity,
    field: req.context.trigger_field,
    oldValue: req.context.old_value,
    newValue: req.context.new_value,
    args: req.args,
  };
}

export interface TriggerRunOutcome {
  runId: string;
  /** `ok` for a run that completed; anything else (`failed`, `cancelled`, `timeout`...) is kept as a failure. */
  status: string;
  error?: { type: string; message: string };
}

export interface TriggerRunner {
  /**
   * Run the script. Resolves when the run has ended (for a session run: when
   * its overlay is left for review or committed).
   *
   * @remarks The runner must stamp `origin.chain = {...req.chain, depth: req.chain.depth + 1}`
   * on every bundle the run makes; that is what lets the safety net stop runaway chains.
   * `signal` aborts when a trigger with `concurrency = "restart"` fires again for the
   * same entity: the run should end promptly (its result is then recorded as cancelled).
   */
  run(req: TriggerRunRequest, signal: AbortSignal): Promise<TriggerRunOutcome>;
}
