/**
 * Commit conflicts: a field the session wrote that canonical changed since the session's
 * snapshot to a value other than the script's. The script's ops have no priority: a person
 * chooses, per conflict or all at once. Where canonical now holds what the script wrote, the
 * two agree and there is nothing to choose.
 */
import type { FieldValue, WorkspaceStore } from "../../crdt/index.ts";
import type { Overlay } from "./overlay.ts";
import type { OverlayBase } from "./overlay-base.ts";
import type { SessionMeta } from "./session.ts";

export interface SessionConflict {
  /** `<entity>:<field key>`, stable for the session. */
  id: string;
  entity: string;
  field: string;
  /** What the script left in the field. */
  scriptValue: FieldValue;
  /** What canonical holds now (null when the entity is gone). */
  canonicalValue: FieldValue;
  /** What canonical held at the snapshot. */
  snapshotValue: FieldValue;
  /** Who changed canonical: the newest bundle touching the entity since the session opened. */
  changedBy: { actor: unknown; peer: string; hlc: string; bundle: string } | null;
  entityDeleted: boolean;
  resolution?: "script" | "canonical";
}

export function findCommitConflicts(store: WorkspaceStore, meta: SessionMeta, overlay: Overlay, base: OverlayBase): SessionConflict[] {
  const seen = new Set<string>();
  const out: SessionConflict[] = [];
  for (const op of overlay.ops) {
    if (op.op !== "SetField" && op.op !== "ApplyCRDT") continue;
    const id = `${op.id}:${op.field}`;
    if (seen.has(id)) continue;
    seen.add(id);
    if (!store.entityExists(op.id, { heads: meta.heads })) continue; // made by this session
    const snapshotValue = read(() => store.getField(op.id, op.field, { heads: meta.heads }));
    let entityDeleted = false;
    const canonicalValue = read(() => store.getField(op.id, op.field), () => (entityDeleted = true));
    if (!entityDeleted && same(snapshotValue, canonicalValue)) continue;
    const scriptValue = read(() => overlay.field(op.id, op.field, base));
    // Both sides agree (canonical reached the value the script wrote): nothing for a person to choose.
    if (!entityDeleted && same(scriptValue, canonicalValue)) continue;
    const by = store.history({ entity: op.id, limit: 20 }).find((h) => h.meta.hlc > meta.startHlc && !(h.meta.actor.kind === "script" && h.meta.actor.runId === meta.runId));
    out.push({
      id,
      entity: op.id,
      field: op.field,
      scriptValue,
      canonicalValue,
      snapshotValue,
      changedBy: by ? { actor: by.meta.actor, peer: by.meta.peer, hlc: by.meta.hlc, bundle: by.hash } : null,
      entityDeleted,
    });
  }
  return out;
}

function read(f: () => FieldValue, onMissing?: () => void): FieldValue {
  try {
    return f();
  } catch {
    onMissing?.();
    return null;
  }
}

function same(a: FieldValue, b: FieldValue): boolean {
  return a === b || JSON.stringify(a) === JSON.stringify(b);
}
