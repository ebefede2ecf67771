/**
 * Configuration files of a show: openprod.toml, modules/<name>/module.toml,
 * and the TOML-with-positions helpers other parts use to validate their own
 * sections with `file:line` errors.
 */
export { parseTomlDocument, configError, checkKeys, formatPath, formatKey } from "./toml-document.ts";
export type { TomlDocument, TomlTable } from "./toml-document.ts";
export {
  describeValue,
  isTable,
  expectTable,
  requireString,
  optionalString,
  optionalBool,
  optionalInt,
  stringList,
} from "./config-values.ts";
export { rawSection, rawSections } from "./raw-section.ts";
export type { RawSection } from "./raw-section.ts";
export { parseModuleManifest } from "./module-manifest.ts";
export type { ModuleManifest, FacetSpec, FieldSpec, TableSpec, EdgeTypeSpec } from "./module-manifest.ts";
export { loadModules, buildSchema } from "./load-modules.ts";
export type { LoadedModules } from "./load-modules.ts";
export { parseWorkspaceConfig, loadWorkspaceConfig, DEFAULT_COMPACT_EVERY } from "./workspace-config.ts";
export type { WorkspaceConfig } from "./workspace-config.ts";
export { showDirectory, CONFIG_FILE_NAME } from "./show-directory.ts";
export type { ShowDirectory } from "./show-directory.ts";
export { loadShow } from "./show.ts";
export { parseScriptArgs, checkScriptArgs, SCRIPT_ARG_TYPES } from "./script-args.ts";
export type { ScriptArgSpec, ScriptArgType } from "./script-args.ts";
export type { ShowConfig } from "./show.ts";
