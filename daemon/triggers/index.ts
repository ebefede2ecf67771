/**
 * Triggers: `[trigger.*]` configuration checked against the schema and the
 * scripts, the cycle check (trigger → script → fields it may write →
 * triggers), and the dispatcher that turns change events into script runs
 * with a runtime safety net and per-trigger traces. loadShowTriggers loads a
 * whole show's triggers (write sets from the scripts' capabilities);
 * createRuntimeTriggerRunner runs them as real Lua through the script runtime.
 */
export { loadTriggers, triggerSections } from "./load-triggers.ts";
export type { LoadedTriggers, TriggerSection } from "./load-triggers.ts";
export { parseTrigger, TRIGGER_KEYS, DEFAULT_MAX_TRACES } from "./parse-trigger.ts";
export type { TriggerContext } from "./parse-trigger.ts";
export { CONCURRENCY_MODES, RUN_MODES } from "./trigger-def.ts";
export type { Concurrency, KnownScript, ParamSource, RejectedTrigger, RunMode, TriggerDef } from "./trigger-def.ts";
export { triggerCycles } from "./trigger-cycles.ts";
export type { TriggerNode } from "./trigger-cycles.ts";
export { stronglyConnectedComponents } from "./tarjan.ts";
export { TriggerDispatcher, createTriggerDispatcher, summarizeTriggers } from "./dispatcher.ts";
export type { TriggerDispatcherOptions, TriggerEvent, TriggerStore, TriggerSummary } from "./dispatcher.ts";
export { MAX_CHAIN_AGE_MS, MAX_CHAIN_DEPTH, chainOf } from "./causal-chain.ts";
export type { TraceStatus, TriggerTrace } from "./trace-log.ts";
export type { CausalChain, FiringDescription, TriggerRunner, TriggerRunRequest, TriggerRunOutcome } from "./runner.ts";
export { describeFiring } from "./runner.ts";
export { createRuntimeTriggerRunner } from "./runtime-runner.ts";
export type { RuntimeTriggerRunnerOptions } from "./runtime-runner.ts";
export { loadShowTriggers } from "./show-triggers.ts";
export type { ShowTriggers, ShowTriggersInput, ShowTriggersOptions } from "./show-triggers.ts";
export { triggerReloadRefusal } from "./trigger-reload.ts";
