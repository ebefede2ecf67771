/**
 * A whole show's configuration in one call: openprod.toml plus every module,
 * and the Schema they define. What the daemon (and most integration tests)
 * load at start.
 */
import type { Schema } from "../crdt/vocabulary.ts";
import { loadModules } from "./load-modules.ts";
import type { ModuleManifest } from "./module-manifest.ts";
import { showDirectory } from "./show-directory.ts";
import type { ShowDirectory } from "./show-directory.ts";
import { loadWorkspaceConfig } from "./workspace-config.ts";
import type { WorkspaceConfig } from "./workspace-config.ts";

export interface ShowConfig {
  dir: ShowDirectory;
  config: WorkspaceConfig;
  modules: ModuleManifest[];
  schema: Schema;
}

export async function loadShow(root: string): Promise<ShowConfig> {
  const dir = showDirectory(root);
  const config = await loadWorkspaceConfig(dir.root);
  const { modules, schema } = await loadModules(dir.root);
  return { dir, config, modules, schema };
}
