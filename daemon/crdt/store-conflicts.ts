/**
 * The store's side of conflict tracking: which keys a bundle or a merge makes
 * the tracker re-examine, what a conflicted field shows meanwhile (its
 * provisional value), the conflict records kept on disk, and bulk resolution.
 */
import type { ConflictTarget } from "./apply-ops.ts";
import type { ConflictDelta, FieldChange } from "./change-feed.ts";
import { ConflictTracker } from "./conflicts.ts";
import type { ConflictLocation, ConflictRecord } from "./conflicts.ts";
import { InvalidOperation } from "./errors.ts";
import type { FieldValue, Operation } from "./operations.ts";
import type { PatchDigest } from "./patch-events.ts";
import type { RecordWrite } from "./persistence/index.ts";
import type { StoreContext } from "./store-context.ts";
import { NS_CONFLICTS, dec, enc } from "./store-context.ts";

type Parts = Pick<StoreContext, "be" | "doc" | "tracker">;

export function conflictTarget(tracker: ConflictTracker, id: string): ConflictTarget | null {
  const rec = tracker.get(id);
  if (!rec) return null;
  return { entity: rec.entity, key: rec.field, container: rec.container, clashId: rec.clashId, mergedInto: rec.mergedInto };
}

/** What a key shows: an open conflict's provisional value stands in for the document's. */
export function shown(tracker: ConflictTracker, container: "entity" | "edge", entity: string, key: string, value: FieldValue): FieldValue {
  const p = tracker.provisional(container, entity, key);
  return p === undefined ? value : p;
}

/** An edge's position while its `pos` is in conflict. */
export function provisionalPosition(tracker: ConflictTracker, id: string): string | undefined {
  const p = tracker.provisional("edge", id, "pos");
  return typeof p === "string" ? p : undefined;
}

function merge(into: ConflictDelta, d: ConflictDelta): void {
  into.opened.push(...d.opened);
  into.closed.push(...d.closed);
}

/**
 * After a local bundle: a local write to a conflicted key has seen every competing value, so it
 * resolves the conflict; clashes the bundle recorded open their own.
 */
export function examineLocal(ctx: Parts, changes: FieldChange[], clashes: string[]): ConflictDelta {
  const { be, doc, tracker } = ctx;
  const recheck: ConflictLocation[] = [];
  for (const c of changes) {
    // "entity" changes name structural keys too (a resolved `@merged_into`).
    if ((c.kind === "field" || c.kind === "entity") && tracker.has("entity", c.entity, c.field)) {
      recheck.push({ container: "entity", entity: c.entity, obj: doc.entityObj(c.entity) as string, key: c.field });
    }
  }
  const delta = recheck.length ? tracker.examine(recheck) : { opened: [], closed: [] };
  for (const c of changes) {
    if (c.kind !== "edge" || !tracker.has("edge", c.entity, "pos")) continue;
    const obj = doc.edgeObj(c.entity);
    if (obj) merge(delta, tracker.examine([{ container: "edge", entity: c.entity, obj, key: "pos" }]));
  }
  for (const clashId of clashes) merge(delta, tracker.examineClash(clashId, be.get(doc.clashes, clashId)));
  return delta;
}

/**
 * After a merge: the keys it touched are re-examined, and its field changes rewritten to show
 * what users see (provisional values) before the indexes take them.
 */
export function examineMerge(ctx: Parts & Pick<StoreContext, "schema">, digest: PatchDigest): ConflictDelta {
  const { tracker } = ctx;
  // What each touched field showed before: an open conflict's provisional value, else the document's.
  const shownBefore = new Map<string, FieldValue>();
  for (const loc of digest.conflictKeys) {
    const p = loc.container === "entity" ? tracker.provisional("entity", loc.entity, loc.key) : undefined;
    if (p !== undefined) shownBefore.set(ConflictTracker.keyOf("entity", loc.entity, loc.key), p);
  }
  const delta = tracker.examine(digest.conflictKeys);
  for (const c of digest.clashes) merge(delta, tracker.examineClash(c.id, c.raw));
  showProvisional(ctx, digest.changes, digest.conflictKeys, shownBefore);
  return delta;
}

/**
 * Field changes as users see them: a conflict's provisional value stands in for Automerge's own
 * pick, and a conflict opening or closing can change what a field shows while the document's
 * winning value stays the same.
 */
function showProvisional(ctx: Parts & Pick<StoreContext, "schema">, changes: FieldChange[], keys: ConflictLocation[], shownBefore: Map<string, FieldValue>): void {
  const { doc, tracker } = ctx;
  const reported = new Set<string>();
  for (const c of changes) {
    if (c.kind !== "field") continue;
    const k = ConflictTracker.keyOf("entity", c.entity, c.field);
    reported.add(k);
    if (shownBefore.has(k)) c.oldValue = shownBefore.get(k);
    c.newValue = shown(tracker, "entity", c.entity, c.field, c.newValue ?? null);
  }
  for (const loc of keys) {
    const k = ConflictTracker.keyOf("entity", loc.entity, loc.key);
    if (loc.container !== "entity" || reported.has(k)) continue;
    const now = tracker.provisional("entity", loc.entity, loc.key);
    if (now === undefined && !shownBefore.has(k)) continue;
    const def = ctx.schema.fields.get(loc.key);
    if (!def || !doc.isLive(loc.entity)) continue;
    reported.add(k);
    const raw = doc.readField(loc.obj, def);
    const oldValue = shownBefore.has(k) ? (shownBefore.get(k) as FieldValue) : raw;
    const newValue = now === undefined ? raw : now;
    if (JSON.stringify(oldValue) !== JSON.stringify(newValue)) changes.push({ kind: "field", entity: loc.entity, field: loc.key, oldValue, newValue });
  }
}

/** The conflict records to write with the bundle that opened or closed them. */
export function conflictRecordWrites(delta: ConflictDelta): RecordWrite[] {
  const writes: RecordWrite[] = [];
  for (const c of delta.opened) writes.push({ namespace: NS_CONFLICTS, key: c.id, value: enc.encode(JSON.stringify(c)) });
  for (const id of delta.closed) writes.push({ namespace: NS_CONFLICTS, key: id, value: null });
  return writes;
}

/** What one write did to the open conflicts, each once, in id order (as a listing of the conflicts has them). */
export function announcedConflicts(delta: ConflictDelta): ConflictDelta {
  const byId = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);
  const opened = new Map(delta.opened.map((c) => [c.id, c]));
  return {
    opened: [...opened.values()].sort((a, b) => byId(a.id, b.id)),
    closed: [...new Set(delta.closed)].sort(byId),
  };
}

/** At open: the stored records that still hold in the document are tracked again; the others are deleted. */
export async function restoreConflicts(ctx: Parts & Pick<StoreContext, "persistence">): Promise<void> {
  const { be, doc, persistence } = ctx;
  const records: ConflictRecord[] = [];
  const stale: string[] = [];
  for await (const [k, v] of persistence.records(NS_CONFLICTS).list()) {
    const rec = JSON.parse(dec.decode(v)) as ConflictRecord;
    const obj = rec.container === "entity" ? doc.entityObj(rec.entity) : doc.edgeObj(rec.entity);
    const stillOpen = rec.clashId
      ? be.get(doc.clashes, rec.clashId) !== undefined
      : rec.kind === "stranded"
        ? obj !== null && be.get(obj, rec.field) !== undefined
        : obj !== null && be.getAll(obj, rec.field).length > 1;
    if (stillOpen) records.push(rec);
    else stale.push(k);
  }
  ctx.tracker.restore(records);
  if (stale.length) await persistence.writeRecords(stale.map((key) => ({ namespace: NS_CONFLICTS, key, value: null })));
}

/**
 * The operations that resolve every conflict of a bulk conflict keeping one side's values: "ours"
 * (this peer's change set), "theirs" (the other), or a change set id of the bulk's sides.
 */
export function bulkResolution(tracker: ConflictTracker, peerId: string, bulkId: string, keep: string): Operation[] {
  const bulk = tracker.bulkConflicts().find((b) => b.id === bulkId);
  if (!bulk) throw new InvalidOperation(`bulk conflict ${bulkId} is not open`, { bulk: bulkId });
  let side = bulk.sides.find((s) => s.changeSet === keep);
  if (!side && (keep === "ours" || keep === "theirs")) {
    const ours = bulk.sides.find((s) => s.peer === peerId);
    if (!ours) {
      throw new InvalidOperation(
        `neither side of bulk conflict ${bulkId} was made on this peer: choose a side by change set (${bulk.sides.map((s) => s.changeSet).join(", ")})`,
        { bulk: bulkId, sides: bulk.sides },
      );
    }
    side = keep === "ours" ? ours : bulk.sides.find((s) => s !== ours);
  }
  if (!side) {
    throw new InvalidOperation(`"${keep}" is not a side of bulk conflict ${bulkId} (use ours, theirs or ${bulk.sides.map((s) => s.changeSet).join(", ")})`, {
      bulk: bulkId,
    });
  }
  const ops: Operation[] = [];
  for (const id of bulk.conflicts) {
    const rec = tracker.get(id);
    if (!rec) continue;
    const v = rec.values.find((x) => x.changeSet === side.changeSet) ?? rec.values[0];
    ops.push({ op: "ResolveConflict", conflictId: id, value: v.value });
  }
  return ops;
}
