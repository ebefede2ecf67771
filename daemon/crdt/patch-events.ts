/**
 * Turns Automerge patches (from `diff(before, after)`) into change-feed
 * events and the keys whose conflict state must be re-examined. Used for
 * bundles merged from peers and for overlays committed at their snapshot,
 * where the ops that produced the change are not ours to inspect.
 */
import type { Backend, Heads } from "./automerge-backend.ts";
import type { FieldChange } from "./change-feed.ts";
import type { ConflictLocation } from "./conflicts.ts";
import type { FieldValue } from "./operations.ts";
import { decodeValue } from "./workspace-doc.ts";
import type { WorkspaceDoc } from "./workspace-doc.ts";
import { CLASHES, EDGES, ENTITIES, FACET_PREFIX, K_DELETED, K_MERGED_INTO, TABLE_PREFIX } from "./layout.ts";

type Patch = ReturnType<Backend["diff"]>[number];
type FullValue = Parameters<typeof decodeValue>[2];

export interface PatchDigest {
  changes: FieldChange[];
  conflictKeys: ConflictLocation[];
  clashes: { id: string; raw: unknown }[];
  touched: Set<string>;
}

export interface DigestOptions {
  /** Keys with an open conflict: they are re-examined even when the patch does not flag them. */
  isTracked?: (container: "entity" | "edge", id: string, key: string) => boolean;
  /**
   * Let the event loop run every this many entities (a peer joining a big show merges it in one
   * go; the daemon must keep serving meanwhile). The caller holds the store's write lock.
   */
  yieldEvery?: number;
}

const yieldToEventLoop = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** `be` is the document `doc` reads (the canonical backend): the digest also reads every value of a touched key. */
export async function digestPatches(doc: WorkspaceDoc, be: Pick<Backend, "getAll">, patches: Patch[], before: Heads, opts: DigestOptions = {}): Promise<PatchDigest> {
  // Collapse to the set of (container, id, key) touched; values are re-read, so order does not matter.
  const entityKeys = new Map<string, Set<string>>();
  const edgeKeys = new Map<string, Set<string>>();
  const clashIds = new Set<string>();
  // Keys Automerge reports as holding concurrent values after the change.
  const flagged = new Set<string>();
  for (const p of patches) {
    const [root, id, key] = p.path as [string, string | undefined, string | number | undefined];
    if (typeof id !== "string") continue;
    if (root === CLASHES) {
      clashIds.add(id);
      continue;
    }
    const target = root === ENTITIES ? entityKeys : root === EDGES ? edgeKeys : null;
    if (!target) continue;
    let set = target.get(id);
    if (!set) target.set(id, (set = new Set()));
    if (typeof key === "string") {
      set.add(key);
      if (p.path.length === 3 && ((p.action === "put" && p.conflict) || p.action === "conflict")) flagged.add(`${root}\u0000${id}\u0000${key}`);
    } else if (key === undefined) set.add("");
  }
  const isTracked = opts.isTracked ?? (() => true);
  const mustExamine = (container: "entity" | "edge", id: string, key: string, everything: boolean): boolean =>
    everything || flagged.has(`${container === "entity" ? ENTITIES : EDGES}\u0000${id}\u0000${key}`) || isTracked(container, id, key);
  const yieldEvery = opts.yieldEvery ?? Infinity;
  let sinceYield = 0;
  // Which entities existed before: one listing beats thousands of lookups into the past.
  const beforeIds = entityKeys.size > 1000 ? new Set(doc.be.keys(doc.entities, before)) : null;

  const changes: FieldChange[] = [];
  const conflictKeys: ConflictLocation[] = [];
  const touched = new Set<string>();
  const read = doc.be;

  for (const [id, keys] of entityKeys) {
    if (++sinceYield >= yieldEvery) {
      sinceYield = 0;
      await yieldToEventLoop();
    }
    const obj = doc.entityObj(id);
    if (!obj) continue;
    touched.add(id);
    // An entity's map is created once under its fresh id and never replaced, so the old state is the same object read at
    // the old heads: with the listing at hand, no lookup into the past is needed.
    const oldObj = beforeIds ? (beforeIds.has(id) ? obj : null) : doc.entityObj(id, before);
    const existedBefore = oldObj !== null;
    if (!existedBefore) changes.push({ kind: "entity", entity: id, field: "created", oldValue: null, newValue: true });
    // A merge arriving makes every field of the merged entity worth a look: edits it never saw are stranded there.
    const merging = keys.has(K_MERGED_INTO);
    // An edit landing on an entity that is (now) merged away is stranded unless examined.
    const mergedAway = merging || read.get(obj, K_MERGED_INTO) !== undefined;
    const allKeys = keys.has("") || merging ? new Set([...keys, ...read.keys(obj)]) : keys;
    for (const key of allKeys) {
      if (key === "") continue;
      // One read of each side per key: the raw value, the field's decoded value and the conflict examination come from it.
      // Automerge's winning value is the last of the key's values (`get` is `getAll`'s last).
      const values = be.getAll(obj, key);
      if (mustExamine("entity", id, key, mergedAway)) conflictKeys.push({ container: "entity", entity: id, obj, key, now: { values, mergedAway } });
      const oldFull = oldObj ? read.getWithType(oldObj, key, before) : undefined;
      // Without the op id `getAll` appends to a scalar, it is what `getWithType` answers.
      const newFull = values.length > 0 ? (values[values.length - 1].slice(0, 2) as FullValue) : undefined;
      const oldRaw = oldFull ? oldFull[1] : undefined;
      const newRaw = newFull ? newFull[1] : undefined;
      if (key === K_DELETED) {
        if (newRaw !== undefined && oldRaw === undefined) changes.push({ kind: "entity", entity: id, field: "deleted", oldValue: null, newValue: String(newRaw) });
      } else if (key === K_MERGED_INTO) {
        if (newRaw !== undefined) changes.push({ kind: "entity", entity: id, field: "merged", oldValue: (oldRaw as FieldValue) ?? null, newValue: newRaw as FieldValue });
      } else if (key.startsWith(TABLE_PREFIX)) {
        const table = key.slice(TABLE_PREFIX.length);
        if ((oldRaw === undefined) !== (newRaw === undefined)) {
          changes.push({ kind: "table", entity: id, field: table, oldValue: oldRaw === undefined ? null : true, newValue: newRaw === undefined ? null : true });
        }
      } else if (key.startsWith(FACET_PREFIX)) {
        changes.push({ kind: "facet", entity: id, field: key.slice(FACET_PREFIX.length), oldValue: oldRaw === true ? true : null, newValue: newRaw === true ? true : null });
      } else if (!key.startsWith("@")) {
        const def = doc.schema.fields.get(key);
        if (!def) continue;
        const oldValue = oldFull ? decodeValue(read, def, oldFull, before) : null;
        const newValue = newFull ? decodeValue(read, def, newFull) : null;
        if (JSON.stringify(oldValue) !== JSON.stringify(newValue)) {
          changes.push({ kind: "field", entity: id, field: key, oldValue, newValue });
        }
      }
    }
  }

  for (const [id, keys] of edgeKeys) {
    const now = doc.edge(id);
    if (!now) continue;
    const obj = doc.edgeObj(id) as string;
    const was = doc.edge(id, before);
    for (const key of keys) if (key !== "" && mustExamine("edge", id, key, false)) conflictKeys.push({ container: "edge", entity: id, obj, key });
    touched.add(now.source);
    touched.add(now.target);
    const shape = (e: { type: string; source: string; target: string }): { [k: string]: FieldValue } => ({ type: e.type, source: e.source, target: e.target });
    if (!was && !now.deleted) changes.push({ kind: "edge", entity: id, field: "created", oldValue: null, newValue: shape(now) });
    else if (was && !was.deleted && now.deleted) changes.push({ kind: "edge", entity: id, field: "deleted", oldValue: shape(was), newValue: null });
    else if (was && !now.deleted && (was.source !== now.source || was.target !== now.target || was.position !== now.position)) {
      changes.push({ kind: "edge", entity: id, field: "moved", oldValue: { ...shape(was), position: was.position }, newValue: { ...shape(now), position: now.position } });
    } else if (was && !now.deleted) {
      changes.push({ kind: "edge", entity: id, field: "properties", oldValue: was.properties, newValue: now.properties });
    }
  }

  const clashes = [...clashIds].map((id) => ({ id, raw: read.get(doc.clashes, id) }));
  return { changes, conflictKeys, clashes, touched };
}
