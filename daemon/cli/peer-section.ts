/**
 * Edits the `[peer]` section of an openprod.toml as text, so the file keeps
 * its comments and layout: `init --listen` sets `listen`, `join` sets
 * `connect` and drops the keys that belonged to the inviting machine.
 */
import { parse } from "smol-toml";

export interface PeerSectionEdit {
  /** Keys set to a list of strings (one line each). */
  set?: Record<string, readonly string[]>;
  /** Keys removed (with their comment-free value, even when it spans lines). */
  drop?: readonly string[];
}

/** A `[peer]` list as configured (e.g. `listen`), or [] when absent. */
export function peerList(text: string, key: string): string[] {
  const peer = (parse(text) as { peer?: Record<string, unknown> }).peer;
  const v = peer?.[key];
  return Array.isArray(v) ? v.filter((x): x is string => typeof x === "string") : [];
}

/** `key = ["a", "b"]`: a TOML line (basic strings, escaped as JSON escapes them, which TOML reads alike). */
export function tomlListLine(key: string, values: readonly string[]): string {
  return `${key} = [${values.map((v) => JSON.stringify(v)).join(", ")}]`;
}

export function editPeerSection(text: string, edit: PeerSectionEdit): string {
  const lines = text.split("\n");
  let start = lines.findIndex((l) => /^\s*\[peer\]\s*(#.*)?$/.test(l));
  if (start === -1) {
    if (lines.at(-1) === "") lines.pop();
    lines.push("", "[peer]");
    start = lines.length - 1;
  }
  let end = lines.findIndex((l, i) => i > start && /^\s*\[/.test(l));
  if (end === -1) end = lines.length;
  const set = edit.set ?? {};
  const touched = new Set([...Object.keys(set), ...(edit.drop ?? [])]);
  const body: string[] = [];
  const done = new Set<string>();
  for (let i = start + 1; i < end; i++) {
    const m = /^\s*([A-Za-z0-9_-]+)\s*=\s*(.*)$/.exec(lines[i]);
    if (m === null || !touched.has(m[1])) {
      body.push(lines[i]);
      continue;
    }
    // A multi-line array runs to its closing bracket.
    if (m[2].trimStart().startsWith("[") && !m[2].includes("]")) {
      while (i + 1 < end && !lines[i].includes("]")) i++;
    }
    const values = set[m[1]];
    if (values !== undefined && !done.has(m[1])) body.push(tomlListLine(m[1], values));
    done.add(m[1]);
  }
  const added = Object.entries(set)
    .filter(([k]) => !done.has(k))
    .map(([k, v]) => tomlListLine(k, v));
  // New keys go right under the header, where a reader of the section looks first.
  return [...lines.slice(0, start + 1), ...added, ...body, ...lines.slice(end)].join("\n");
}
