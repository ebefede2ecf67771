/**
 * The script runtime: runs Lua scripts against the workspace with the Scripts Specification's
 * core API, in session overlays (persisted, streamed, committed atomically) or autoCommit.
 */
export { createScriptRuntime } from "./runtime.ts";
export type { CancelledRun, CancelOptions, RunOptions, RunResult, RunStart, RunStatus, ScriptRuntime, ScriptRuntimeOptions } from "./runtime.ts";
export { parseScriptConfig, parseDuration, parseSize, DEFAULT_SCRIPT_CONFIG } from "./script-config.ts";
export type { ScriptConfig, ExecutionMode, OnError, Isolation, ScriptMode, RestartPolicy } from "./script-config.ts";
export { DEFAULT_RESTART } from "./script-config.ts";
export { configuredScriptIds, STOP_GRACE_MS } from "./background.ts";
export type { BackgroundStatus, StartBackgroundOptions, ReloadResult } from "./background.ts";
export type { BackgroundEvent, BackgroundState } from "./background-events.ts";
export { InputLog, FULL_INPUTS, HASHED_INPUTS } from "./io-wiring.ts";
export { showScripts, inlineScripts, contentHash } from "./script-catalog.ts";
export type { ScriptCatalog, LoadedScript, ShowScriptsInput } from "./script-catalog.ts";
export type { RuntimeEvent, RuntimeEvents, Dialogs, DialogRequest } from "./events.ts";
export { Session, SESSIONS_NAMESPACE } from "./session.ts";
export type { CommitOutcome, SessionSummary, SessionMeta } from "./session.ts";
export { storeBase } from "./overlay-base.ts";
export type { OverlayBase } from "./overlay-base.ts";
export type { SessionConflict } from "./commit-conflicts.ts";
export type { RunRecord, RunSkip } from "./run-records.ts";
export { RunRecordStore } from "./run-records.ts";
export { functionTimes, profileRanking, profileTable, speedscopeFile, SPEEDSCOPE_SCHEMA } from "./run-profile.ts";
export type { ProfileEntry, ScriptProfile, SpeedscopeFile } from "./run-profile.ts";
export { SCRIPT_API } from "./script-api.ts";
export type { ApiFunction } from "./script-api.ts";
export type { ScriptCapabilities } from "./script-run.ts";
export { showCapabilities } from "./show-capabilities.ts";
export type { ShowCapabilities, ShowCapabilitiesInput } from "./show-capabilities.ts";
export { defaultNativeRegistry, uiCapabilityOf } from "./run-gating.ts";
export type { ReplayResult, ReplayableRecord } from "./replay.ts";
