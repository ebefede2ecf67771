/**
 * Changing a script's source from the daemon's side (an editor client): user scripts
 * (workspace/scripts/*.lua) are the user's to edit; module scripts (modules/<m>/scripts/*.lua)
 * ship with their module and are read-only.
 */
import { writeFile as fsWriteFile } from "node:fs/promises";
import path from "node:path";
import { InvalidOperation, PermissionDenied } from "../../crdt/index.ts";
import type { SyntaxProblem } from "../engine/index.ts";
import type { LoadedScript } from "./script-catalog.ts";

export interface ScriptSourceDeps {
  load: (scriptId: string) => Promise<LoadedScript>;
  checkSyntax: (source: string, chunkName: string) => Promise<SyntaxProblem | null>;
  writeFile?: (file: string, text: string) => Promise<void>;
  /** Makes the new source the one later runs use (runtime.reloadScript). */
  reload: (scriptId: string, source: string) => Promise<unknown>;
}

/** `lighting/lightwright_sync` → "lighting"; user scripts → null. */
export function moduleOfScript(scriptId: string): string | null {
  const slash = scriptId.indexOf("/");
  return slash > 0 ? scriptId.slice(0, slash) : null;
}

export async function updateScriptSource(deps: ScriptSourceDeps, scriptId: string, source: string): Promise<void> {
  const module = moduleOfScript(scriptId);
  const script = await deps.load(scriptId);
  if (module !== null) {
    const name = scriptId.slice(module.length + 1);
    throw new PermissionDenied(
      `script "${scriptId}" (${script.chunkName}) is a module script: it ships with module "${module}" and is read-only; copy it to workspace/scripts/${name}.lua to make your own version`,
      { script: scriptId, module, file: script.chunkName },
    );
  }
  const problem = await deps.checkSyntax(source, script.chunkName);
  if (problem) {
    throw new InvalidOperation(`${problem.file}:${problem.line}:${problem.column}: ${problem.message}; the script was not changed`, { script: scriptId, file: problem.file, line: problem.line, column: problem.column });
  }
  if (path.isAbsolute(script.file)) await (deps.writeFile ?? ((f, t) => fsWriteFile(f, t, "utf8")))(script.file, source);
  await deps.reload(scriptId, source);
}
