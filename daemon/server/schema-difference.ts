/**
 * What differs between the workspace schema in force and the one a changed
 * show directory defines, in a technician's words ("adds facets sound.Cue;
 * removes tables sound.cues"), or null when they define the same facets,
 * fields, tables and edge types. The store and every open run resolve names
 * against the schema the daemon started with, so the show watcher refuses a
 * live change that needs a different one and says exactly what it was.
 */
import type { Schema } from "../crdt/vocabulary.ts";

export function schemaDifference(before: Schema, after: Schema): string | null {
  const parts: string[] = [];
  const compare = (what: string, a: ReadonlyMap<string, unknown>, b: ReadonlyMap<string, unknown>): void => {
    const added = [...b.keys()].filter((k) => !a.has(k));
    const removed = [...a.keys()].filter((k) => !b.has(k));
    const changed = [...b.keys()].filter((k) => a.has(k) && JSON.stringify(a.get(k)) !== JSON.stringify(b.get(k)));
    if (added.length) parts.push(`adds ${what} ${added.join(", ")}`);
    if (removed.length) parts.push(`removes ${what} ${removed.join(", ")}`);
    if (changed.length) parts.push(`changes ${what} ${changed.join(", ")}`);
  };
  compare("facets", before.facets, after.facets);
  compare("tables", before.tables, after.tables);
  compare("edge types", before.edgeTypes, after.edgeTypes);
  return parts.length ? parts.join("; ") : null;
}
