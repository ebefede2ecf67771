/**
 * The Lua engine the script runtime stands on: sandboxed Lua 5.4 (wasmoon) in worker threads,
 * limits (time, memory, kill), an async bridge to host bindings, worker-side extensions.
 */
export { createLuaEngine } from "./engine.ts";
export { DEFAULT_SAMPLE_EVERY, LuaFloat, SLEEP_BINDING, TIMING_BINDING } from "./types.ts";
export type {
  HostBinding,
  HostValue,
  LuaEngine,
  LuaEngineOptions,
  ProfileFrame,
  ProfileOptions,
  RunError,
  RunHandle,
  RunInfo,
  RunLimits,
  RunOutcome,
  RunProfile,
  RunRequest,
  ShutdownOutcome,
  SyntaxProblem,
  WorkerModuleContext,
} from "./types.ts";
export { HostCallError } from "./worker-modules.ts";
export type { DebugLink, StepKind, ToAgent, FromAgent, AgentFrame, AgentScopes, AgentVariable } from "./debug-wire.ts";
export { DBG_PAUSE, DEBUG_SIGNAL_BYTES, signalAgent } from "./debug-wire.ts";
