/** `scripts.list`: every script of the show, from a running daemon's catalog or the show's files read offline. */
import fs from "node:fs";
import path from "node:path";
import type { ShowConfig } from "../config/index.ts";
import { configuredScriptIds } from "../scripts/runtime/index.ts";
import type { ScriptCatalog } from "../scripts/runtime/index.ts";
import type { ScriptInfo } from "../../protocol/index.ts";

/** Every script of the show (configured or found in workspace/scripts/), with its settings or why it cannot load. */
export async function listScripts(show: ShowConfig, catalog: ScriptCatalog): Promise<{ scripts: ScriptInfo[] }> {
  const ids = new Set(configuredScriptIds(show));
  const userDir = path.join(show.dir.root, "workspace", "scripts");
  const configured = new Set(ids);
  for (const f of fs.existsSync(userDir) ? fs.readdirSync(userDir) : []) if (f.endsWith(".lua")) ids.add(f.slice(0, -4));
  const out: ScriptInfo[] = [];
  for (const id of [...ids].sort()) {
    const slash = id.indexOf("/");
    const info: ScriptInfo = { id, file: "", module: slash > 0 ? id.slice(0, slash) : null, configured: configured.has(id), description: "", capabilities: [] };
    try {
      const s = await catalog.load(id);
      Object.assign(info, {
        file: path.relative(show.dir.root, s.file),
        description: s.config.description,
        executionMode: s.config.executionMode,
        mode: s.config.mode,
        onError: s.config.onError,
        isolation: s.config.isolation,
        capabilities: s.config.capabilities,
        args: s.config.args,
        hash: s.hash,
      });
    } catch (e) {
      info.error = (e as Error).message;
    }
    out.push(info);
  }
  return { scripts: out };
}
