/**
 * A section this folder does not interpret (`[script.*]`, `[trigger.*]`,
 * `[peer]`): its values are handed to the part that owns them, together with
 * the document so that part can report errors at the right file and line.
 */
import { configError } from "./toml-document.ts";
import type { TomlDocument } from "./toml-document.ts";
import { expectTable } from "./config-values.ts";

const NAME = /^[A-Za-z_][A-Za-z0-9_-]*$/;

export interface RawSection {
  /** `renumber_cues` for `[script.renumber_cues]`; `peer` for `[peer]`. */
  name: string;
  file: string;
  /** Line of the section header (or of its first key when written as dotted keys). */
  line: number | undefined;
  values: Record<string, unknown>;
  doc: TomlDocument;
  /** Path of the section in the document, e.g. `["script","renumber_cues"]`: prefix for configError. */
  path: string[];
}

export function rawSection(doc: TomlDocument, path: string[], value: unknown): RawSection {
  const values = expectTable(doc, path, value);
  return { name: path[path.length - 1], file: doc.file, line: doc.lineOf(path), values, doc, path };
}

/** Every `[<kind>.<name>]` of a document, by name: `rawSections(doc, "script")`. */
export function rawSections(doc: TomlDocument, kind: string): Record<string, RawSection> {
  const group = doc.data[kind];
  if (group === undefined) return {};
  const table = expectTable(doc, [kind], group);
  const out: Record<string, RawSection> = {};
  for (const [name, value] of Object.entries(table)) {
    // Names become file names (workspace/scripts/<name>.lua) and ids in events: keep them plain.
    if (!NAME.test(name)) {
      throw configError(doc, [kind, name], `the name ${JSON.stringify(name)} must be letters, digits, "_" or "-"`);
    }
    out[name] = rawSection(doc, [kind, name], value);
  }
  return out;
}
