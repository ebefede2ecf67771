/**
 * Where scripts come from: user scripts `workspace/scripts/<name>.lua` (id `name`, configured in
 * openprod.toml) and module scripts `modules/<m>/scripts/<name>.lua` (id `m/name`, configured in
 * the module's module.toml). Every `[script.*]` section is validated when the catalog is built.
 */
import { createHash } from "node:crypto";
import { statSync } from "node:fs";
import path from "node:path";
import { ConfigError, EntityNotFound } from "../../crdt/vocabulary.ts";
import type { ModuleManifest, WorkspaceConfig } from "../../config/index.ts";
import { DEFAULT_SCRIPT_CONFIG, parseScriptConfig } from "./script-config.ts";
import type { ScriptConfig } from "./script-config.ts";

export interface LoadedScript {
  id: string;
  /** Absolute path of the .lua file. */
  file: string;
  /** Shown in Lua errors and tracebacks: the path relative to the show. */
  chunkName: string;
  source: string;
  /** sha-256 of the source, hex. */
  hash: string;
  config: ScriptConfig;
  /** A module script's module: its name and version (module.toml). */
  module?: { name: string; version: string | null };
}

/** The seam the runtime loads scripts through. */
export interface ScriptCatalog {
  /** Throws EntityNotFound for an unknown script, ConfigError for a bad section. */
  load(scriptId: string): Promise<LoadedScript>;
  /**
   * The script's file changed on disk (the show watcher saw it): the next load reads it again.
   * Only a catalog that keeps sources between loads (`watched`) has anything to forget.
   */
  changed?(scriptId: string): void;
}

export function contentHash(source: string): string {
  return createHash("sha256").update(source).digest("hex");
}

export interface ShowScriptsInput {
  root: string;
  config: Pick<WorkspaceConfig, "scripts">;
  modules: readonly (Pick<ModuleManifest, "name" | "dir" | "scripts"> & { version?: string })[];
  /** File access comes in from the caller (tests, the daemon). */
  readFile: (file: string) => Promise<string>;
  /**
   * The show watcher follows this show and tells the runtime about every edit
   * (runtime.fileChanged, which calls `changed`): sources are then kept between runs instead of
   * read on every one (open, fstat, read, close: about 5 % of a trigger run). A kept source is
   * used only while the file's inode, size, mtime and ctime are what they were when it was read,
   * so an edit the watcher has not handled yet (its settle time) still reaches the next run, as
   * it does without the cache; the watcher's `changed` covers a same-size rewrite within one
   * file-system timestamp tick. A file that cannot be stat'ed (a reader over something other
   * than the disk) is read every time. Default false: read on every load.
   */
  watched?: boolean;
}

/** What identifies one version of a file on disk; null when it cannot be stat'ed. */
function fileSignature(file: string): string | null {
  try {
    const st = statSync(file, { bigint: true, throwIfNoEntry: false });
    return st && st.isFile() ? `${st.ino}:${st.size}:${st.mtimeNs}:${st.ctimeNs}` : null;
  } catch {
    return null;
  }
}

/** A catalog over a show directory. Throws ConfigError for the first bad `[script.*]` section. */
export function showScripts(input: ShowScriptsInput): ScriptCatalog {
  const configs = new Map<string, { file: string; config: ScriptConfig }>();
  for (const [name, section] of Object.entries(input.config.scripts)) {
    configs.set(name, { file: path.join(input.root, "workspace", "scripts", `${name}.lua`), config: parseScriptConfig(section) });
  }
  for (const m of input.modules) {
    for (const [name, section] of Object.entries(m.scripts)) {
      configs.set(`${m.name}/${name}`, { file: path.join(m.dir, "scripts", `${name}.lua`), config: parseScriptConfig(section) });
    }
  }
  const moduleDirs = new Map(input.modules.map((m) => [m.name, m.dir]));
  const versions = new Map(input.modules.map((m) => [m.name, m.version ?? null]));
  /** watched: the last load of each script and the signature of the file it was read from. */
  const kept = new Map<string, { signature: string; loaded: LoadedScript }>();
  return {
    changed(scriptId: string): void {
      kept.delete(scriptId);
    },
    async load(scriptId: string): Promise<LoadedScript> {
      let entry = configs.get(scriptId);
      if (!entry) {
        const slash = scriptId.indexOf("/");
        const dir = slash > 0 ? moduleDirs.get(scriptId.slice(0, slash)) : undefined;
        const file = slash > 0 ? (dir ? path.join(dir, "scripts", `${scriptId.slice(slash + 1)}.lua`) : null) : path.join(input.root, "workspace", "scripts", `${scriptId}.lua`);
        if (!file || !/^[A-Za-z0-9_-]+(\/[A-Za-z0-9_-]+)?$/.test(scriptId)) {
          throw new EntityNotFound(`unknown script "${scriptId}" (user scripts are workspace/scripts/<name>.lua, module scripts <module>/<name>)`, { script: scriptId });
        }
        entry = { file, config: { ...DEFAULT_SCRIPT_CONFIG, capabilities: [] } };
      }
      // Taken before the read: an edit landing during the read makes the next load read again.
      const signature = input.watched ? fileSignature(entry.file) : null;
      const hit = signature !== null ? kept.get(scriptId) : undefined;
      if (hit !== undefined && hit.signature === signature && hit.loaded.file === entry.file) return { ...hit.loaded };
      let source: string;
      try {
        source = await input.readFile(entry.file);
      } catch (e) {
        const configured = entry.config.file ? ` (configured at ${entry.config.file}:${entry.config.line ?? "?"})` : "";
        throw new EntityNotFound(`script "${scriptId}" has no file ${entry.file}${configured}: ${(e as Error).message}`, { script: scriptId, file: entry.file });
      }
      const slash = scriptId.indexOf("/");
      const moduleName = slash > 0 ? scriptId.slice(0, slash) : null;
      const loaded: LoadedScript = { id: scriptId, file: entry.file, chunkName: path.relative(input.root, entry.file) || entry.file, source, hash: contentHash(source), config: entry.config };
      if (moduleName !== null && moduleDirs.has(moduleName)) loaded.module = { name: moduleName, version: versions.get(moduleName) ?? null };
      if (signature !== null) kept.set(scriptId, { signature, loaded: { ...loaded } });
      else kept.delete(scriptId);
      return loaded;
    },
  };
}

/** A catalog of scripts given in memory (tests, scripts sent over the socket). */
export function inlineScripts(scripts: Record<string, { source: string; config?: Partial<ScriptConfig>; chunkName?: string }>): ScriptCatalog {
  return {
    async load(scriptId: string): Promise<LoadedScript> {
      const s = scripts[scriptId];
      if (!s) throw new EntityNotFound(`unknown script "${scriptId}" (known: ${Object.keys(scripts).join(", ") || "none"})`, { script: scriptId });
      const config = { ...DEFAULT_SCRIPT_CONFIG, capabilities: [], ...(s.config ?? {}) };
      if (config.shutdownTimeoutMs > 60_000) throw new ConfigError(`script "${scriptId}": shutdown_timeout must be at most 60s`, { script: scriptId });
      const chunkName = s.chunkName ?? `${scriptId}.lua`;
      return { id: scriptId, file: chunkName, chunkName, source: s.source, hash: contentHash(s.source), config };
    },
  };
}
