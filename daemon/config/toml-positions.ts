/**
 * Where each key of a TOML document is written. smol-toml gives values but no
 * positions, and semantic errors ("unknown field type", "no such facet") must
 * name the line, so this walks the source once more. It runs only on text that
 * smol-toml has already accepted, so it can assume well-formed TOML; it still
 * always advances, so a surprise cannot make it loop.
 *
 * Paths are the key names from the root: `[script.renumber_cues]` then
 * `on_error = ...` is `["script","renumber_cues","on_error"]`; dotted keys and
 * inline tables extend the path; array elements add their index (`"0"`), as do
 * `[[array.of.tables]]` entries.
 */

export interface KeyPositions {
  /** Path (joined with NUL) → 1-based line where it is first written. */
  readonly lines: ReadonlyMap<string, number>;
  /** Paths written as `[header]` or `[[header]]` (and each entry's indexed path). */
  readonly headers: ReadonlySet<string>;
}

export function pathId(path: readonly string[]): string {
  return path.join("\u0000");
}

const BARE_KEY = /[A-Za-z0-9_-]/;

export function scanKeyPositions(source: string): KeyPositions {
  const lines = new Map<string, number>();
  const headers = new Set<string>();
  const arrayTableCounts = new Map<string, number>();
  let i = 0;
  let line = 1;
  let current: string[] = [];

  const record = (path: readonly string[], at: number): void => {
    for (let n = 1; n <= path.length; n++) {
      const id = pathId(path.slice(0, n));
      if (!lines.has(id)) lines.set(id, at);
    }
  };

  const skipBlank = (newlines: boolean): void => {
    while (i < source.length) {
      const c = source[i];
      if (c === " " || c === "\t" || c === "\r") i++;
      else if (c === "\n" && newlines) {
        line++;
        i++;
      } else if (c === "#") {
        while (i < source.length && source[i] !== "\n") i++;
      } else break;
    }
  };

  const readQuoted = (quote: string, escapes: boolean): string => {
    i++; // opening quote
    let out = "";
    while (i < source.length && source[i] !== quote && source[i] !== "\n") {
      if (escapes && source[i] === "\\") {
        const e = source[i + 1];
        if (e === "u" || e === "U") {
          const len = e === "u" ? 4 : 8;
          out += String.fromCodePoint(parseInt(source.slice(i + 2, i + 2 + len), 16) || 0xfffd);
          i += 2 + len;
          continue;
        }
        out += ESCAPES[e] ?? e;
        i += 2;
        continue;
      }
      out += source[i++];
    }
    i++; // closing quote
    return out;
  };

  const readKey = (): string[] => {
    const parts: string[] = [];
    for (;;) {
      skipBlank(false);
      const c = source[i];
      if (c === '"') parts.push(readQuoted('"', true));
      else if (c === "'") parts.push(readQuoted("'", false));
      else {
        const start = i;
        while (i < source.length && BARE_KEY.test(source[i])) i++;
        if (i === start) break;
        parts.push(source.slice(start, i));
      }
      skipBlank(false);
      if (source[i] !== ".") break;
      i++;
    }
    return parts;
  };

  const skipMultiline = (delim: string, escapes: boolean): void => {
    i += 3;
    while (i < source.length) {
      const c = source[i];
      if (c === "\n") line++;
      if (escapes && c === "\\") {
        if (source[i + 1] === "\n") line++;
        i += 2;
        continue;
      }
      if (source.startsWith(delim, i)) {
        i += 3;
        // Up to two quote characters may sit right before the closing delimiter.
        while (source[i] === delim[0]) i++;
        return;
      }
      i++;
    }
  };

  const readValue = (path: readonly string[]): void => {
    const c = source[i];
    if (source.startsWith('"""', i)) skipMultiline('"""', true);
    else if (source.startsWith("'''", i)) skipMultiline("'''", false);
    else if (c === '"') readQuoted('"', true);
    else if (c === "'") readQuoted("'", false);
    else if (c === "[") {
      i++;
      for (let index = 0; i < source.length; index++) {
        skipBlank(true);
        if (source[i] === "]") break;
        const elem = [...path, String(index)];
        record(elem, line);
        const before = i;
        readValue(elem);
        skipBlank(true);
        if (source[i] === ",") i++;
        else if (i === before) i++;
      }
      i++;
    } else if (c === "{") {
      i++;
      while (i < source.length) {
        skipBlank(true);
        if (source[i] === "}") break;
        const before = i;
        readPair(path);
        skipBlank(true);
        if (source[i] === ",") i++;
        else if (i === before) i++;
      }
      i++;
    } else {
      while (i < source.length && !",]}\n#".includes(source[i])) i++;
    }
  };

  const readPair = (base: readonly string[]): void => {
    const at = line;
    const key = readKey();
    skipBlank(false);
    if (key.length === 0 || source[i] !== "=") return;
    i++;
    skipBlank(false);
    const full = [...base, ...key];
    record(full, at);
    readValue(full);
  };

  while (i < source.length) {
    skipBlank(true);
    if (i >= source.length) break;
    const before = i;
    if (source.startsWith("[[", i)) {
      i += 2;
      const key = readKey();
      const id = pathId(key);
      const index = arrayTableCounts.get(id) ?? 0;
      arrayTableCounts.set(id, index + 1);
      current = [...key, String(index)];
      record(current, line);
      headers.add(id);
      headers.add(pathId(current));
      i += 2;
    } else if (source[i] === "[") {
      i++;
      const key = readKey();
      current = key;
      record(current, line);
      headers.add(pathId(current));
      i++;
    } else {
      readPair(current);
    }
    if (i === before) i++;
  }
  return { lines, headers };
}

const ESCAPES: Record<string, string> = {
  b: "\b",
  t: "\t",
  n: "\n",
  f: "\f",
  r: "\r",
  e: "\u001b",
  '"': '"',
  "\\": "\\",
};
