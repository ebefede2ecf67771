/**
 * `modules/<name>/module.toml`: what a module declares — its version and
 * capabilities, the facets (typed fields) it adds to the schema, its tables
 * and edge types, and the raw `[script.*]` / `[trigger.*]` sections that the
 * scripts and triggers parts validate.
 *
 * One manifest is checked on its own here; what needs every module (a table
 * naming another module's facet, names declared twice) is in load-modules.ts.
 */
import path from "node:path";
import { FIELD_TYPES, facetKey, fieldKey, suggest } from "../crdt/vocabulary.ts";
import { displayPlaceholders } from "../crdt/vocabulary.ts";
import type { EdgeTypeDef, FacetDef, FieldDef, FieldType, TableDef } from "../crdt/vocabulary.ts";
import { checkKeys, configError, parseTomlDocument } from "./toml-document.ts";
import type { TomlDocument } from "./toml-document.ts";
import {
  describeValue,
  expectTable,
  isTable,
  optionalBool,
  optionalString,
  requireString,
  stringList,
} from "./config-values.ts";
import { rawSections } from "./raw-section.ts";
import type { RawSection } from "./raw-section.ts";

export interface FieldSpec extends FieldDef {
  readonly description: string;
}
export interface FacetSpec extends FacetDef {
  readonly fields: readonly FieldSpec[];
}
export interface TableSpec extends TableDef {
  readonly description: string;
}
export interface EdgeTypeSpec extends EdgeTypeDef {
  readonly description: string;
}

export interface ModuleManifest {
  name: string;
  version: string;
  description: string;
  /** Directory of the module (`<show>/modules/<name>`). */
  dir: string;
  /** Path of module.toml. */
  file: string;
  capabilities: { value: string; line: number | undefined }[];
  facets: FacetSpec[];
  /** Facet names are resolved: `Fixture` → `lighting.Fixture`; others' facets are checked by loadModules. */
  tables: TableSpec[];
  edgeTypes: EdgeTypeSpec[];
  scripts: Record<string, RawSection>;
  triggers: Record<string, RawSection>;
  doc: TomlDocument;
}

const SECTIONS = ["module", "facet", "table", "edge", "script", "trigger"];
const MODULE_KEYS = ["version", "description", "capabilities"];
const FIELD_KEYS = ["type", "description"];
const TABLE_KEYS = ["facets", "description", "display"];
const EDGE_KEYS = ["ordered", "description"];
/** Module names are namespaces in field keys and in require(): no dots, no slashes. */
const MODULE_NAME = /^[a-z][a-z0-9_]*$/;
const IDENT = /^[A-Za-z][A-Za-z0-9_]*$/;
const VERSION = /^\d+\.\d+\.\d+(?:-[0-9A-Za-z.-]+)?(?:\+[0-9A-Za-z.-]+)?$/;
/** Query results carry `id`, and `table` is the membership pseudo-field in queries. */
const RESERVED_FIELDS = ["id", "table"];

/**
 * Parses and checks one module.toml. `dirName` is the directory it was found in
 * (`modules/<dirName>/module.toml`); the `[module.<name>]` must match it.
 */
export function parseModuleManifest(
  file: string,
  source: string,
  dirName: string,
  dir = path.dirname(file),
): ModuleManifest {
  const doc = parseTomlDocument(file, source);
  checkKeys(doc, [], doc.data, SECTIONS);

  const moduleGroup = doc.data.module;
  if (moduleGroup === undefined) {
    throw configError(doc, [], `missing [module.${dirName}] section (it names the module, its version and capabilities)`);
  }
  const modules = expectTable(doc, ["module"], moduleGroup);
  const names = Object.keys(modules);
  if (names.length !== 1) {
    const found = names.length === 0 ? "none" : names.map((n) => `[module.${n}]`).join(", ");
    throw configError(doc, ["module"], `a module.toml declares exactly one [module.<name>], found ${found}`);
  }
  const name = names[0];
  const at = ["module", name];
  if (name !== dirName) {
    throw configError(
      doc,
      at,
      `module name "${name}" does not match its directory "modules/${dirName}/"; rename one so they agree`,
    );
  }
  if (!MODULE_NAME.test(name)) {
    throw configError(doc, at, `module name "${name}" must be lower-case letters, digits and "_", starting with a letter`);
  }
  if (name === "workspace") {
    throw configError(doc, at, `"workspace" is reserved (require("workspace/...") loads workspace/modules/)`);
  }
  const module = expectTable(doc, at, modules[name]);
  checkKeys(doc, at, module, MODULE_KEYS);
  const version = requireString(doc, at, module, "version");
  if (!VERSION.test(version)) {
    throw configError(doc, [...at, "version"], `"${version}" is not a version like "1.2.0"`);
  }
  const capabilities = stringList(doc, at, module, "capabilities", []).map((value, i) => ({
    value,
    line: doc.lineOf([...at, "capabilities", String(i)]) ?? doc.lineOf([...at, "capabilities"]),
  }));

  const facets = parseFacets(doc, name);
  return {
    name,
    version,
    description: optionalString(doc, at, module, "description", ""),
    dir,
    file,
    capabilities,
    facets,
    tables: parseTables(doc, name),
    edgeTypes: parseEdgeTypes(doc, name),
    scripts: rawSections(doc, "script"),
    triggers: rawSections(doc, "trigger"),
    doc,
  };
}

function entries(doc: TomlDocument, kind: string): [string, Record<string, unknown>, string[]][] {
  const group = doc.data[kind];
  if (group === undefined) return [];
  const table = expectTable(doc, [kind], group);
  return Object.entries(table).map(([name, value]) => {
    const path = [kind, name];
    if (!IDENT.test(name)) {
      throw configError(doc, path, `the name "${name}" must be letters, digits and "_", starting with a letter`);
    }
    return [name, expectTable(doc, path, value), path];
  });
}

function parseFacets(doc: TomlDocument, module: string): FacetSpec[] {
  const facets: FacetSpec[] = [];
  const seenLower = new Map<string, string>();
  for (const [name, table, path] of entries(doc, "facet")) {
    const other = seenLower.get(name.toLowerCase());
    if (other !== undefined) {
      throw configError(doc, path, `facet "${name}" differs from facet "${other}" only in case; their field keys would clash`);
    }
    seenLower.set(name.toLowerCase(), name);
    const fields: FieldSpec[] = [];
    for (const [field, value] of Object.entries(table)) {
      const fieldPath = [...path, field];
      if (!IDENT.test(field)) {
        throw configError(doc, fieldPath, `field names are letters, digits and "_", starting with a letter`);
      }
      if (RESERVED_FIELDS.includes(field)) {
        throw configError(doc, fieldPath, `"${field}" is reserved (queries use it); choose another field name`);
      }
      let type: unknown = value;
      let description = "";
      if (isTable(value)) {
        checkKeys(doc, fieldPath, value, FIELD_KEYS);
        if (value.type === undefined) {
          throw configError(doc, fieldPath, `is missing its type; write type = one of ${FIELD_TYPES.join(", ")}`);
        }
        type = value.type;
        description = optionalString(doc, fieldPath, value, "description", "");
      }
      const typePath = isTable(value) ? [...fieldPath, "type"] : fieldPath;
      if (typeof type !== "string" || !(FIELD_TYPES as readonly string[]).includes(type)) {
        const shown = typeof type === "string" ? `"${type}"` : describeValue(type);
        const hint = typeof type === "string" ? suggest(type, FIELD_TYPES) : "";
        throw configError(doc, typePath, `unknown field type ${shown}${hint}; the types are ${FIELD_TYPES.join(", ")}`);
      }
      fields.push({
        module,
        facet: name,
        name: field,
        type: type as FieldType,
        key: fieldKey(module, name, field),
        facetKey: facetKey(module, name),
        description,
      });
    }
    facets.push({ module, name, key: facetKey(module, name), fields });
  }
  return facets;
}

function parseTables(doc: TomlDocument, module: string): TableSpec[] {
  return entries(doc, "table").map(([name, table, path]) => {
    checkKeys(doc, path, table, TABLE_KEYS);
    const listed = stringList(doc, path, table, "facets");
    const facets = listed.map((f) => (f.includes(".") ? f : facetKey(module, f)));
    const dup = facets.findIndex((f, i) => facets.indexOf(f) !== i);
    if (dup >= 0) throw configError(doc, [...path, "facets", String(dup)], `facet "${listed[dup]}" is listed twice`);
    const display = table.display === undefined ? undefined : requireString(doc, path, table, "display");
    if (display !== undefined && displayPlaceholders(display).length === 0) {
      throw configError(doc, [...path, "display"], `display "${display}" names no field; write the fields in braces, e.g. "Q{number} {label}"`);
    }
    return { module, name, facets, description: optionalString(doc, path, table, "description", ""), ...(display === undefined ? {} : { display }) };
  });
}

function parseEdgeTypes(doc: TomlDocument, module: string): EdgeTypeSpec[] {
  return entries(doc, "edge").map(([name, table, path]) => {
    checkKeys(doc, path, table, EDGE_KEYS);
    return {
      module,
      name,
      ordered: optionalBool(doc, path, table, "ordered", false),
      description: optionalString(doc, path, table, "description", ""),
    };
  });
}
