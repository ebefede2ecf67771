/** Edges and ordered edges made, moved and deleted by a bundle's operations (the interpreter is apply-ops.ts). */
import type { Heads } from "./automerge-backend.ts";
import type { Fields } from "./operations.ts";
import { InvalidOperation } from "./errors.ts";
import { positionBetween } from "./fractional-index.ts";
import { K_DELETED, PROP_PREFIX } from "./layout.ts";
import type { OpContext } from "./apply-context.ts";

export function createEdge(
  ctx: OpContext,
  edgeId: string | undefined,
  type: string,
  source: string,
  target: string,
  properties: Fields | undefined,
  pos: string | null,
): string {
  ctx.schema.edgeType(type);
  const s = ctx.doc.live(source);
  const t = ctx.doc.live(target);
  const id = edgeId ?? ctx.newId();
  if (ctx.doc.edgeObj(id)) throw new InvalidOperation(`edge ${id} already exists`, { edge: id });
  const initial: Record<string, string> = { type, source: s.id, target: t.id };
  if (pos !== null) initial.pos = pos;
  for (const [k, v] of Object.entries(properties ?? {})) initial[PROP_PREFIX + k] = JSON.stringify(v);
  ctx.doc.be.putObject(ctx.doc.edges, id, initial);
  ctx.changes.push({ kind: "edge", entity: id, field: "created", oldValue: null, newValue: { type, source: s.id, target: t.id } });
  ctx.touched.add(s.id);
  ctx.touched.add(t.id);
  return id;
}

export function deleteEdge(ctx: OpContext, edgeId: string): void {
  const obj = ctx.doc.edgeObj(edgeId);
  if (!obj) return;
  const e = ctx.doc.edge(edgeId);
  ctx.doc.be.put(obj, K_DELETED, ctx.hlc);
  ctx.changes.push({ kind: "edge", entity: edgeId, field: "deleted", oldValue: e ? { type: e.type, source: e.source, target: e.target } : null, newValue: null });
}

/**
 * Edges created or re-attached earlier in the same bundle: no index knows them under their new
 * endpoints yet (a merge of an entity that an earlier merge in the bundle gave edges to).
 */
export function bundleEdges(ctx: OpContext): string[] {
  const out: string[] = [];
  for (const c of ctx.changes) if (c.kind === "edge" && (c.field === "created" || c.field === "moved")) out.push(c.entity);
  return out;
}

/** Siblings of (target, type) in position order, tie-broken by edge id. */
export function orderedSiblings(
  ctx: Pick<OpContext, "doc" | "siblingCandidates" | "provisionalPosition">,
  target: string,
  type: string,
  heads?: Heads,
): { id: string; pos: string }[] {
  const out: { id: string; pos: string }[] = [];
  for (const id of new Set(ctx.siblingCandidates(target, type))) {
    const e = ctx.doc.edge(id, heads);
    if (!e || e.deleted || e.target !== target || e.type !== type || e.position === null) continue;
    // Place relative to what the user sees, not to Automerge's internal pick among conflicting moves.
    const shown = heads ? undefined : ctx.provisionalPosition?.(id);
    out.push({ id, pos: shown ?? e.position });
  }
  out.sort((a, b) => (a.pos < b.pos ? -1 : a.pos > b.pos ? 1 : a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  return out;
}

export function placeAmongSiblings(
  ctx: OpContext,
  target: string,
  type: string,
  after: string | undefined,
  before: string | undefined,
  moving: string | undefined,
): string {
  const siblings = orderedSiblings(ctx, ctx.doc.live(target).id, type).filter((s) => s.id !== moving);
  const find = (id: string, which: string): number => {
    const i = siblings.findIndex((s) => s.id === id);
    if (i < 0) {
      throw new InvalidOperation(`${which} edge ${id} is not a ${type} edge of ${target}`, { edge: id, target, edgeType: type });
    }
    return i;
  };
  let lo: string | null;
  let hi: string | null;
  if (after !== undefined) {
    const i = find(after, "after");
    lo = siblings[i].pos;
    hi = nextDistinct(siblings, i, lo);
  } else if (before !== undefined) {
    const i = find(before, "before");
    hi = siblings[i].pos;
    lo = prevDistinct(siblings, i, hi);
  } else {
    lo = siblings.length ? siblings[siblings.length - 1].pos : null;
    hi = null;
  }
  return positionBetween(lo, hi, ctx.random);
}

export function nextDistinct(s: { pos: string }[], i: number, pos: string): string | null {
  for (let j = i + 1; j < s.length; j++) if (s[j].pos !== pos) return s[j].pos;
  return null;
}

export function prevDistinct(s: { pos: string }[], i: number, pos: string): string | null {
  for (let j = i - 1; j >= 0; j--) if (s[j].pos !== pos) return s[j].pos;
  return null;
}
