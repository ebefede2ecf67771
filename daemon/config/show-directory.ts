/**
 * Where things live in a show directory (see docs/configuration.md):
 *
 * ```
 * myshow/
 *   openprod.toml              workspace, store, peer, [script.*], [trigger.*]
 *   workspace/scripts/*.lua    user scripts
 *   workspace/modules/*.lua    user shared code: require("workspace/x")
 *   modules/<name>/module.toml, scripts/*.lua, exports/*.lua
 *   .openprod/                 daemon state (store, peer key, socket, logs)
 * ```
 */
import path from "node:path";

export interface ShowDirectory {
  /** Absolute path of the show directory. */
  root: string;
  configFile: string;
  workspaceScripts: string;
  workspaceModules: string;
  modulesDir: string;
  /** `.openprod/`: daemon state, never edited by hand. */
  stateDir: string;
  /** `.openprod/store`: the LevelDB database. */
  storeDir: string;
  /** `.openprod/store.acknowledged`: what the store last acknowledged, kept apart so a deleted store is noticed. */
  acknowledgedFile: string;
}

export const CONFIG_FILE_NAME = "openprod.toml";

export function showDirectory(root: string): ShowDirectory {
  const abs = path.resolve(root);
  const stateDir = path.join(abs, ".openprod");
  return {
    root: abs,
    configFile: path.join(abs, CONFIG_FILE_NAME),
    workspaceScripts: path.join(abs, "workspace", "scripts"),
    workspaceModules: path.join(abs, "workspace", "modules"),
    modulesDir: path.join(abs, "modules"),
    stateDir,
    storeDir: path.join(stateDir, "store"),
    acknowledgedFile: path.join(stateDir, "store.acknowledged"),
  };
}
