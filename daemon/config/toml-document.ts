/**
 * A parsed TOML configuration file that remembers where each key is written,
 * so every part that validates a section (module manifests, workspace config,
 * scripts, triggers, peer) can report `file:line` for what it rejects.
 */
import { parse, TomlError } from "smol-toml";
import { ConfigError } from "../crdt/vocabulary.ts";
import { suggest } from "../crdt/vocabulary.ts";
import { pathId, scanKeyPositions } from "./toml-positions.ts";

/** A TOML table as parsed: values are strings, numbers, booleans, dates, arrays, tables. */
export type TomlTable = Record<string, unknown>;

export interface TomlDocument {
  readonly file: string;
  readonly source: string;
  readonly data: TomlTable;
  /** Line (1-based) where the key at `path` is written, or undefined when it is not in the file. */
  lineOf(path: readonly string[]): number | undefined;
  /** The longest prefix of `path` that is a `[table]` header in the file ([] when none). */
  sectionOf(path: readonly string[]): string[];
}

/** Parses `source`; a syntax error is a ConfigError `<file>:<line>:<col>: <reason>`. */
export function parseTomlDocument(file: string, source: string): TomlDocument {
  let data: TomlTable;
  try {
    data = parse(source);
  } catch (e) {
    if (e instanceof TomlError) {
      const reason = e.message.replace(/^Invalid TOML document: /, "").split("\n\n")[0];
      // The parser's reasons are terse ("invalid value"): quoting the line shows what it choked on.
      const text = (source.split(/\r?\n/)[e.line - 1] ?? "").trim().slice(0, 80);
      const shown = text === "" ? "" : ` in ${JSON.stringify(text)}`;
      throw new ConfigError(`${file}:${e.line}:${e.column}: ${reason}${shown}`, {
        file,
        line: e.line,
        column: e.column,
        excerpt: e.codeblock,
      });
    }
    throw e;
  }
  const positions = scanKeyPositions(source);
  return {
    file,
    source,
    data,
    lineOf: (path) => positions.lines.get(pathId(path)),
    sectionOf: (path) => {
      for (let n = path.length; n > 0; n--) {
        if (positions.headers.has(pathId(path.slice(0, n)))) return path.slice(0, n);
      }
      return [];
    },
  };
}

/** `lighting`, `"sm.Contact"`: a key as it would be written in TOML. */
export function formatKey(part: string): string {
  return /^[A-Za-z0-9_-]+$/.test(part) ? part : JSON.stringify(part);
}

/** `script.renumber_cues.on_error`; list indexes as `capabilities[0]`. */
export function formatPath(path: readonly string[]): string {
  let out = "";
  for (const part of path) {
    if (out !== "" && /^\d+$/.test(part)) out += `[${part}]`;
    else out += (out === "" ? "" : ".") + formatKey(part);
  }
  return out;
}

/**
 * A ConfigError about the key at `path`:
 * `<file>:<line>: [script.renumber_cues] on_error: <reason>`.
 * When the key is not written in the file (a required key is missing) the line
 * is that of the nearest enclosing key or section.
 */
export function configError(doc: TomlDocument, path: readonly string[], reason: string): ConfigError {
  let line: number | undefined;
  for (let n = path.length; n > 0 && line === undefined; n--) line = doc.lineOf(path.slice(0, n));
  let section = doc.sectionOf(path);
  if (section.length === 0 && path.length > 1) section = path.slice(0, -1);
  const rest = path.slice(section.length);
  const where = line === undefined ? doc.file : `${doc.file}:${line}`;
  const head = section.length > 0 ? `[${formatPath(section)}]` : "";
  const tail = rest.length > 0 ? `${formatPath(rest)}:` : "";
  const label = [head, tail].filter((s) => s !== "").join(" ");
  const message = label === "" ? `${where}: ${reason}` : `${where}: ${label} ${reason}`;
  return new ConfigError(message, { file: doc.file, line, key: formatPath(path) });
}

/**
 * Rejects keys of `table` (found at `path`) that are not in `allowed`, naming
 * the allowed ones and the closest match. At the root, keys are sections.
 */
export function checkKeys(
  doc: TomlDocument,
  path: readonly string[],
  table: TomlTable,
  allowed: readonly string[],
): void {
  const unknown = Object.keys(table).filter((k) => !allowed.includes(k));
  if (unknown.length === 0) return;
  // Report the first one written in the file, which is where a reader looks first.
  const lineOf = (k: string): number => doc.lineOf([...path, k]) ?? Number.MAX_SAFE_INTEGER;
  unknown.sort((a, b) => lineOf(a) - lineOf(b));
  const key = unknown[0];
  const hint = suggest(key, allowed);
  const list = allowed.length > 0 ? allowed.join(", ") : "none";
  if (path.length === 0) {
    const line = doc.lineOf([key]);
    const where = line === undefined ? doc.file : `${doc.file}:${line}`;
    const sections = allowed.map((a) => `[${a}]`).join(", ");
    throw new ConfigError(`${where}: unknown section [${formatKey(key)}]${hint}; allowed sections: ${sections}`, {
      file: doc.file,
      line,
      key: formatKey(key),
    });
  }
  throw configError(doc, [...path, key], `unknown key${hint}; allowed keys: ${list}`);
}
