/**
 * require() for one run: the host binding that resolves a name and reads the file, and the
 * Lua prelude (require.lua) that compiles, caches and detects cycles inside the run, so a
 * cached require never crosses the thread boundary.
 */
import { readFileSync } from "node:fs";
import type { HostBinding, HostValue } from "../engine/index.ts";
import type { ModuleFiles } from "./module-files.ts";
import { showDirModuleFiles } from "./module-files.ts";
import { resolveModuleName } from "./module-paths.ts";
import { RequireTracker } from "./require-tracker.ts";

const PRELUDE = readFileSync(new URL("./require.lua", import.meta.url), "utf8");

/** Name of the binding the prelude takes away from the script's globals before the script runs. */
export const RESOLVE_BINDING = "__require.resolve";

export interface RequireOptions {
  /** Show-relative path of the script being run, e.g. `workspace/scripts/renumber.lua`. */
  scriptPath: string;
  /** Where module files come from; `showDir` builds the real one. */
  files?: ModuleFiles;
  showDir?: string;
}

export interface RequireForRun {
  bindings: Record<string, HostBinding>;
  /** A self-contained do-block: safe to concatenate with other preludes. */
  preludeLua: string;
  tracker: RequireTracker;
}

const failure = (type: string, message: string, details: Record<string, HostValue>): HostValue => ({ error: { type, message, details } });

/** Lua string literal for any text (decimal escapes for everything outside printable ASCII). */
export function luaString(s: string): string {
  let out = '"';
  for (const b of Buffer.from(s, "utf8")) {
    if (b === 0x22 || b === 0x5c) out += "\\" + String.fromCharCode(b);
    else if (b >= 0x20 && b < 0x7f) out += String.fromCharCode(b);
    else out += "\\" + String(b).padStart(3, "0");
  }
  return out + '"';
}

/** Resolves `name` required from the show-relative file `from`: `{ path, source }` or `{ error }`. */
export function resolveRequire(files: ModuleFiles, tracker: RequireTracker, name: string, from: string): HostValue {
  const target = resolveModuleName(name, from);
  if ("problem" in target) {
    return failure("PermissionDenied", `require("${name}") is refused: ${target.problem}`, { module: name, from });
  }
  if (target.module !== null && !files.isFolder(target.module)) {
    const installed = target.module.slice("modules/".length);
    return failure("InvalidOperation", `module not installed: "${installed}"`, { module: name, installed: false, expected: target.module });
  }
  const source = files.read(target.path);
  if (source === null) {
    return failure("InvalidOperation", `module not found: "${name}" (tried ${target.path})`, { module: name, tried: target.path });
  }
  tracker.loaded(target.path, source);
  return { path: target.path, source };
}

export function createRequireForRun(opts: RequireOptions): RequireForRun {
  const files = opts.files ?? (opts.showDir !== undefined ? showDirModuleFiles(opts.showDir) : null);
  if (files === null) throw new TypeError("createRequireForRun needs `files` or `showDir`");
  const tracker = new RequireTracker();
  const resolve: HostBinding = {
    kind: "sync",
    fn: (args) => {
      const [name, from] = args;
      if (typeof name !== "string" || typeof from !== "string") {
        return failure("InvalidOperation", `require: expected a module name (string), got ${name === null ? "nil" : typeof name}`, {});
      }
      return resolveRequire(files, tracker, name, from);
    },
  };
  return {
    bindings: { [RESOLVE_BINDING]: resolve },
    preludeLua: `do\nlocal SCRIPT_PATH = ${luaString(opts.scriptPath)}\n${PRELUDE}\nend\n`,
    tracker,
  };
}
