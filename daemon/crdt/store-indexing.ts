/**
 * Keeping the in-memory indexes (table members, edges, field lookups) in step
 * with the document: after each bundle or merge, and at open from the snapshot
 * saved at the last compaction, or by a full scan.
 */
import type { Heads } from "./automerge-backend.ts";
import type { FieldChange } from "./change-feed.ts";
import type { IndexState } from "./indexes.ts";
import { K_DELETED, K_MERGED_INTO, TABLE_PREFIX } from "./layout.ts";
import { digestPatches } from "./patch-events.ts";
import type { StoreContext } from "./store-context.ts";
import { INDEX_SNAPSHOT, NS_META, dec, enc, headsEqual } from "./store-context.ts";

/** Entities digested between two turns of the event loop when a merge is absorbed. */
export const DIGEST_SLICE = 2000;

interface IndexSnapshot {
  v: 1;
  heads: Heads;
  state: IndexState;
}

type IndexParts = Pick<StoreContext, "doc" | "indexes">;

/** Drop cached facts about entities a failed bundle touched. */
export function forget(ctx: Pick<StoreContext, "doc">, entities: Iterable<string>): void {
  for (const id of entities) ctx.doc.invalidate(id);
  ctx.doc.invalidateLiveness();
}

export function applyToIndexes(ctx: IndexParts, changes: FieldChange[]): void {
  for (const c of changes) indexChange(ctx, c);
  dropRemoved(ctx, changes);
}

/** applyToIndexes for big merges: lets the event loop run between slices. */
export async function applyToIndexesSliced(ctx: IndexParts, changes: FieldChange[]): Promise<void> {
  for (let i = 0; i < changes.length; i++) {
    indexChange(ctx, changes[i]);
    if (i % (DIGEST_SLICE * 8) === DIGEST_SLICE * 8 - 1) await new Promise<void>((resolve) => setImmediate(resolve));
  }
  dropRemoved(ctx, changes);
}

function indexChange(ctx: IndexParts, c: FieldChange): void {
  const ix = ctx.indexes;
  if (c.kind !== "field" && c.kind !== "edge") ctx.doc.invalidate(c.entity);
  if (c.kind === "entity") ctx.doc.invalidateLiveness();
  switch (c.kind) {
    case "field":
      ix.fieldChanged(c.entity, c.field, c.oldValue ?? null, c.newValue ?? null);
      break;
    case "table":
      if (c.newValue === null || c.newValue === undefined) ix.removeFromTable(c.entity, c.field);
      else ix.addToTable(c.entity, c.field);
      break;
    case "edge": {
      if (c.field === "deleted") ix.removeEdge(c.entity);
      else if (c.field === "created" || c.field === "moved") {
        const e = ctx.doc.edge(c.entity);
        ix.removeEdge(c.entity);
        if (e && !e.deleted) ix.addEdge({ id: e.id, type: e.type, source: e.source, target: e.target });
      }
      break;
    }
    case "entity":
    case "facet":
      break;
  }
}

/** Deleted and merged-away entities leave every index (after their other changes were applied). */
function dropRemoved(ctx: IndexParts, changes: FieldChange[]): void {
  for (const c of changes) {
    if (c.kind === "entity" && (c.field === "deleted" || c.field === "merged")) ctx.indexes.removeEntity(c.entity);
  }
}

/**
 * Indexes on open: from the snapshot saved at the last compaction plus the
 * changes made since, or by a full scan when there is no usable snapshot.
 */
export async function loadIndexes(ctx: Pick<StoreContext, "be" | "doc" | "indexes" | "persistence">): Promise<void> {
  const raw = await ctx.persistence.records(NS_META).get(INDEX_SNAPSHOT);
  let snapshot: IndexSnapshot | null = null;
  try {
    snapshot = raw ? (JSON.parse(dec.decode(raw)) as IndexSnapshot) : null;
  } catch {
    snapshot = null;
  }
  if (!snapshot || snapshot.v !== 1 || ctx.be.getMissingDeps(snapshot.heads).length > 0) {
    rebuildIndexes(ctx);
    return;
  }
  ctx.indexes.importState(snapshot.state);
  if (!headsEqual(snapshot.heads, ctx.be.getHeads())) {
    const digest = await digestPatches(ctx.doc, ctx.be, ctx.be.diff(snapshot.heads, ctx.be.getHeads()), snapshot.heads);
    applyToIndexes(ctx, digest.changes);
  }
}

/** The indexes as of `heads`, so a restart loads them instead of scanning every entity. */
export function saveIndexSnapshot(ctx: Pick<StoreContext, "indexes" | "persistence">, heads: Heads): Promise<void> {
  const snapshot: IndexSnapshot = { v: 1, heads, state: ctx.indexes.exportState() };
  return ctx.persistence.writeRecords([{ namespace: NS_META, key: INDEX_SNAPSHOT, value: enc.encode(JSON.stringify(snapshot)) }]);
}

/** Full scan of the document: table membership and edges (field indexes build lazily). */
function rebuildIndexes(ctx: Pick<StoreContext, "be" | "doc" | "indexes">): void {
  const { be, doc, indexes } = ctx;
  const ents = doc.entities;
  for (const id of be.keys(ents)) {
    const obj = be.get(ents, id) as string;
    let live = true;
    const tables: string[] = [];
    for (const k of be.keys(obj)) {
      if (k === K_DELETED || k === K_MERGED_INTO) live = false;
      else if (k.startsWith(TABLE_PREFIX)) tables.push(k.slice(TABLE_PREFIX.length));
    }
    if (!live) continue;
    for (const t of tables) indexes.addToTable(id, t);
  }
  for (const id of be.keys(doc.edges)) {
    const e = doc.edge(id);
    if (e && !e.deleted) indexes.addEdge({ id, type: e.type, source: e.source, target: e.target });
  }
}
