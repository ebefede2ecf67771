/**
 * What one past bundle changed, read from the document as it was just before
 * and just after it (the change's deps, then its own hash): entities created
 * and deleted, table memberships, field values old → new, edges. For
 * `history`; the change feed covers live changes as they happen.
 */
import type { FieldChange } from "./change-feed.ts";
import { EDGES, ENTITIES, K_DELETED, TABLE_PREFIX, isFieldKey } from "./layout.ts";
import type { Backend } from "./automerge-backend.ts";
import type { WorkspaceDoc } from "./workspace-doc.ts";
import type { BundleChanges } from "../../protocol/index.ts";
// The wire's own words (protocol/): the daemon keeps no second copy of them.
export type { BundleChanges };

export function bundleChanges(doc: WorkspaceDoc, be: Backend, hash: string, limit: number): BundleChanges {
  const meta = be.getChangeMetaByHash(hash);
  if (!meta) return { changes: [], more: 0 };
  const before = meta.deps;
  const after = [hash];
  const entityKeys = new Map<string, Set<string>>();
  const edgeIds = new Set<string>();
  for (const p of be.diff(before, after)) {
    const [root, id, key] = p.path as [string, string | undefined, string | number | undefined];
    if (typeof id !== "string") continue;
    if (root === EDGES) edgeIds.add(id);
    if (root !== ENTITIES) continue;
    let keys = entityKeys.get(id);
    if (!keys) entityKeys.set(id, (keys = new Set()));
    if (typeof key === "string") keys.add(key);
  }
  const out: FieldChange[] = [];
  let total = 0;
  const push = (c: FieldChange): void => {
    total++;
    if (out.length < limit) out.push({ ...c, bundle: hash });
  };
  for (const [id, keys] of entityKeys) {
    const now = doc.entityObj(id, after);
    if (!now) continue;
    const was = doc.entityObj(id, before);
    if (!was) push({ kind: "entity", entity: id, field: "created", oldValue: null, newValue: true });
    for (const key of keys) {
      const oldRaw = was ? be.get(was, key, before) : undefined;
      const newRaw = be.get(now, key, after);
      if (key === K_DELETED) {
        if (newRaw !== undefined && oldRaw === undefined) push({ kind: "entity", entity: id, field: "deleted", oldValue: null, newValue: String(newRaw) });
      } else if (key.startsWith(TABLE_PREFIX)) {
        if ((oldRaw === undefined) !== (newRaw === undefined)) {
          push({ kind: "table", entity: id, field: key.slice(TABLE_PREFIX.length), oldValue: oldRaw === undefined ? null : true, newValue: newRaw === undefined ? null : true });
        }
      } else if (isFieldKey(key)) {
        const def = doc.schema.fields.get(key);
        if (!def) continue;
        const oldValue = was ? doc.readField(was, def, before) : null;
        const newValue = doc.readField(now, def, after);
        if (JSON.stringify(oldValue) !== JSON.stringify(newValue)) push({ kind: "field", entity: id, field: key, oldValue, newValue });
      }
    }
  }
  for (const id of edgeIds) {
    const now = doc.edge(id, after);
    if (!now) continue;
    const was = doc.edge(id, before);
    const shape = { type: now.type, source: now.source, target: now.target };
    if (!was && !now.deleted) push({ kind: "edge", entity: id, field: "created", oldValue: null, newValue: shape });
    else if (was && !was.deleted && now.deleted) push({ kind: "edge", entity: id, field: "deleted", oldValue: shape, newValue: null });
    else if (was && was.position !== now.position) push({ kind: "edge", entity: id, field: "moved", oldValue: { ...shape, position: was.position }, newValue: { ...shape, position: now.position } });
  }
  return { changes: out, more: total - out.length };
}
