/**
 * require() for scripts: the spec's resolution (./x, ../x, <module>/<path>, workspace/<path>,
 * <module> → init.lua), a per-run cache, require.try, cycle detection with the full path, and
 * the hashes of every module a run loaded.
 */
export { createRequireForRun, resolveRequire, luaString, RESOLVE_BINDING } from "./require-run.ts";
export type { RequireForRun, RequireOptions } from "./require-run.ts";
export { RequireTracker } from "./require-tracker.ts";
export { showDirModuleFiles } from "./module-files.ts";
export type { ModuleFiles } from "./module-files.ts";
export { resolveModuleName, relativeRoot } from "./module-paths.ts";
export type { ModuleTarget, ModuleNameProblem } from "./module-paths.ts";
