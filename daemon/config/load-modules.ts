/**
 * Loads every `modules/<name>/module.toml` of a show and builds the workspace
 * Schema from them. Checks that need all modules at once live here: a table
 * may carry another module's facet (`sm_fixtures` carries `lighting.Fixture`),
 * and table and edge type names are global, so two modules cannot both
 * declare one.
 */
import { promises as fs } from "node:fs";
import type { Dirent } from "node:fs";
import path from "node:path";
import { InvalidOperation, ConfigError, FieldNotFound } from "../crdt/vocabulary.ts";
import { displayPlaceholders } from "../crdt/vocabulary.ts";
import { Schema, suggest } from "../crdt/vocabulary.ts";
import { configError } from "./toml-document.ts";
import { parseModuleManifest } from "./module-manifest.ts";
import type { ModuleManifest, TableSpec } from "./module-manifest.ts";
import { showDirectory } from "./show-directory.ts";

export interface LoadedModules {
  /** Sorted by name, so every peer builds the same schema in the same order. */
  modules: ModuleManifest[];
  schema: Schema;
}

/** Reads `<showDir>/modules/*\/module.toml`. A show without a modules/ directory has no modules. */
export async function loadModules(showDir: string): Promise<LoadedModules> {
  const { modulesDir } = showDirectory(showDir);
  let dirents: Dirent[];
  try {
    dirents = await fs.readdir(modulesDir, { withFileTypes: true });
  } catch (e) {
    if (isErrno(e, "ENOENT")) return { modules: [], schema: Schema.empty() };
    throw new ConfigError(`cannot read ${modulesDir}: ${String(e)}`, { file: modulesDir });
  }
  const dirs = dirents
    .filter((d) => d.isDirectory() && !d.name.startsWith("."))
    .map((d) => d.name)
    .sort();
  const modules: ModuleManifest[] = [];
  for (const name of dirs) {
    const dir = path.join(modulesDir, name);
    const file = path.join(dir, "module.toml");
    let source: string;
    try {
      source = await fs.readFile(file, "utf8");
    } catch (e) {
      if (isErrno(e, "ENOENT")) {
        throw new ConfigError(`${file}: missing; every directory in ${modulesDir} is a module and needs a module.toml`, {
          file,
        });
      }
      throw new ConfigError(`${file}: cannot read: ${String(e)}`, { file });
    }
    modules.push(parseModuleManifest(file, source, name, dir));
  }
  return { modules, schema: buildSchema(modules) };
}

/** Cross-module checks, then the Schema. Exported for tests and for callers holding manifests in memory. */
export function buildSchema(modules: readonly ModuleManifest[]): Schema {
  const facetKeys = new Set(modules.flatMap((m) => m.facets.map((f) => f.key)));
  const tableOwner = new Map<string, ModuleManifest>();
  const edgeOwner = new Map<string, ModuleManifest>();
  for (const m of modules) {
    for (const t of m.tables) {
      const at = ["table", t.name];
      const owner = tableOwner.get(t.name);
      if (owner) throw configError(m.doc, at, `table "${t.name}" is already declared by module "${owner.name}" (${where(owner, at)})`);
      tableOwner.set(t.name, m);
      t.facets.forEach((fk, i) => {
        if (facetKeys.has(fk)) return;
        const written = fk.startsWith(`${m.name}.`) ? fk.slice(m.name.length + 1) : fk;
        throw configError(
          m.doc,
          [...at, "facets", String(i)],
          `unknown facet "${written}"${suggest(fk, facetKeys)}; write "Facet" for this module's facets or "module.Facet" for another module's`,
        );
      });
    }
    for (const e of m.edgeTypes) {
      const at = ["edge", e.name];
      const owner = edgeOwner.get(e.name);
      if (owner) throw configError(m.doc, at, `edge type "${e.name}" is already declared by module "${owner.name}" (${where(owner, at)})`);
      edgeOwner.set(e.name, m);
    }
  }
  let schema: Schema;
  try {
    schema = new Schema({
      facets: modules.flatMap((m) => m.facets),
      tables: modules.flatMap((m) => m.tables),
      edgeTypes: modules.flatMap((m) => m.edgeTypes),
    });
  } catch (e) {
    // The checks above should make this unreachable; if not, keep the schema's reason and say it came from config.
    if (e instanceof InvalidOperation) throw new ConfigError(`module schema: ${e.message}`, e.details);
    throw e;
  }
  for (const m of modules) for (const t of m.tables) checkDisplay(m, t, schema);
  return schema;
}

/** Every `{field}` of a table's display template is a field its members carry. */
function checkDisplay(m: ModuleManifest, t: TableSpec, schema: Schema): void {
  if (t.display === undefined) return;
  for (const p of displayPlaceholders(t.display)) {
    try {
      schema.resolveField(p, t.facets);
    } catch (e) {
      if (!(e instanceof InvalidOperation) && !(e instanceof FieldNotFound)) throw e;
      throw configError(m.doc, ["table", t.name, "display"], `display "${t.display}": {${p}} is not a field of this table's facets (${e.message})`);
    }
  }
}

function where(m: ModuleManifest, at: string[]): string {
  const line = m.doc.lineOf(at);
  return line === undefined ? m.file : `${m.file}:${line}`;
}

function isErrno(e: unknown, code: string): boolean {
  return typeof e === "object" && e !== null && "code" in e && (e as { code: unknown }).code === code;
}
