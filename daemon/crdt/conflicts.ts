/**
 * Open conflicts of a workspace. A conflict is a key that holds several
 * concurrent values after a merge (two peers, or an overlay committed at its
 * snapshot against canonical edits), or an explicit clash recorded by an
 * entity merge. Because the competing values live in the document itself,
 * every peer derives the same conflicts and the same provisional value; a
 * write that has seen all the values (a resolution) closes it everywhere.
 *
 * More than BULK_THRESHOLD conflicts between the same two change sets (a
 * script run, or a single bundle, on each side) form a bulk conflict that can
 * be resolved in one choice.
 */
import { createHash } from "node:crypto";
import type { Backend } from "./automerge-backend.ts";
import type { ChangeLocator } from "./change-locator.ts";
import type { Actor, FieldValue } from "./operations.ts";
import type { Schema } from "./schema.ts";
import { K_MERGED_INTO } from "./layout.ts";
import { decodeValue, parseJson } from "./workspace-doc.ts";
import type { ConflictValue, ConflictRecord, BulkConflict } from "../../protocol/index.ts";
// The wire's own words (protocol/): the daemon keeps no second copy of them.
export type { ConflictValue, ConflictRecord, BulkConflict };

export const BULK_THRESHOLD = 100;

type DocValues = ReturnType<Backend["getAll"]>;

export interface ConflictLocation {
  container: "entity" | "edge";
  entity: string;
  obj: string;
  key: string;
  /**
   * What the caller already read of the document as it stands now (a merge's digest reads every
   * touched key once): the key's values (`getAll`) and whether the entity is merged away. Read
   * again when absent.
   */
  now?: { values: DocValues; mergedAway: boolean };
}

export class ConflictTracker {
  private readonly open = new Map<string, ConflictRecord>();
  private readonly byKey = new Map<string, string>();

  constructor(
    private readonly be: Backend,
    private readonly schema: Schema,
    private readonly locator: ChangeLocator,
    /** The live entity a merged one redirects to (id and map), or null. */
    private readonly survivorOf: (entity: string) => { id: string; obj: string } | null,
  ) {}

  static keyOf(container: string, entity: string, field: string): string {
    return `${container}\u0000${entity}\u0000${field}`;
  }

  has(container: "entity" | "edge", entity: string, field: string): boolean {
    return this.byKey.has(ConflictTracker.keyOf(container, entity, field));
  }

  provisional(container: "entity" | "edge", entity: string, field: string): FieldValue | undefined {
    const id = this.byKey.get(ConflictTracker.keyOf(container, entity, field));
    return id ? this.open.get(id)?.provisional : undefined;
  }

  get(id: string): ConflictRecord | undefined {
    return this.open.get(id);
  }

  list(): ConflictRecord[] {
    return [...this.open.values()].sort((a, b) => (a.id < b.id ? -1 : 1));
  }

  get size(): number {
    return this.open.size;
  }

  /**
   * Re-examine keys after the document changed. Returns the conflicts opened
   * and the ids closed, so the caller can persist and announce them.
   */
  examine(locations: Iterable<ConflictLocation>): { opened: ConflictRecord[]; closed: string[] } {
    const opened: ConflictRecord[] = [];
    const closed: string[] = [];
    for (const loc of locations) {
      const key = ConflictTracker.keyOf(loc.container, loc.entity, loc.key);
      const existing = this.byKey.get(key);
      const mergedAway = loc.container === "entity" && (loc.now ? loc.now.mergedAway : this.be.get(loc.obj, K_MERGED_INTO) !== undefined);
      if (mergedAway && !loc.key.startsWith("@")) {
        this.examineStranded(loc, key, existing, opened, closed);
        continue;
      }
      const all = loc.now ? loc.now.values : this.be.getAll(loc.obj, loc.key);
      // Automerge keeps concurrent puts of the same value side by side; nobody has anything to choose there.
      if (all.length < 2 || this.allEqual(loc, all)) {
        if (existing && !this.open.get(existing)?.clashId) {
          this.remove(existing);
          closed.push(existing);
        }
        continue;
      }
      const opIds = all.map((v) => opIdOf(v)).sort();
      const id = "c" + createHash("sha256").update(`${key}\u0000${opIds.join(",")}`).digest("hex").slice(0, 20);
      if (existing === id) continue;
      if (existing) {
        this.remove(existing);
        closed.push(existing);
      }
      const rec = this.build(id, loc, all);
      this.insert(rec);
      opened.push(rec);
    }
    // Regrouping walks every open conflict: only worth it when the set changed.
    if (opened.length || closed.length) this.regroup();
    return { opened, closed };
  }

  /**
   * A field of a merged-away entity holding values the merge never saw: they were written on a copy
   * that had not yet received the merge. Decided from the document alone (op ids against the merge
   * change's heads), so every copy derives the same record.
   */
  private examineStranded(loc: ConflictLocation, key: string, existing: string | undefined, opened: ConflictRecord[], closed: string[]): void {
    const seen = new Set<string>();
    let known = true;
    for (const m of this.be.getAll(loc.obj, K_MERGED_INTO)) {
      const hash = this.locator.changeOf(opIdOf(m));
      if (!hash) known = false;
      else for (const v of this.be.getAll(loc.obj, loc.key, [hash])) seen.add(opIdOf(v));
    }
    const stranded = known ? this.be.getAll(loc.obj, loc.key).filter((v) => !seen.has(opIdOf(v))) : [];
    const survivor = stranded.length ? this.survivorOf(loc.entity) : null;
    if (!survivor) {
      if (existing && !this.open.get(existing)?.clashId) {
        this.remove(existing);
        closed.push(existing);
      }
      return;
    }
    const current = this.be.getAll(survivor.obj, loc.key);
    const survivorLoc: ConflictLocation = { container: "entity", entity: survivor.id, obj: survivor.obj, key: loc.key };
    const values = [...current.map((v) => this.describe(survivorLoc, v)), ...stranded.map((v) => this.describe(loc, v))];
    if (current.length === 0) values.unshift({ value: null, opId: `none@${survivor.id}`, bundle: null, peer: null, hlc: null, actor: null, changeSet: survivor.id });
    const ids = stranded.map((v) => opIdOf(v)).sort();
    const id = "c" + createHash("sha256").update(`stranded\u0000${key}\u0000${ids.join(",")}`).digest("hex").slice(0, 20);
    if (existing === id) return;
    if (existing) {
      this.remove(existing);
      closed.push(existing);
    }
    // The merge decided what the survivor shows; the stranded edit waits for someone to choose it.
    const provisional = current.length ? this.decode(survivorLoc, current[current.length - 1]) : null;
    const rec: ConflictRecord = { id, kind: "stranded", container: "entity", entity: loc.entity, field: loc.key, values, provisional, mergedInto: survivor.id };
    this.insert(rec);
    opened.push(rec);
  }

  /** Explicit clash records stored in the document's clashes map. */
  examineClash(clashId: string, raw: unknown): { opened: ConflictRecord[]; closed: string[] } {
    const id = "c" + createHash("sha256").update(`clash\u0000${clashId}`).digest("hex").slice(0, 20);
    const rec = parseJson(raw) as { entity?: string; field?: string; hlc?: string; values?: { value: FieldValue; from: string }[] } | null;
    if (!rec || !rec.entity || !rec.field || !rec.values) {
      if (this.open.has(id)) {
        this.remove(id);
        this.regroup();
        return { opened: [], closed: [id] };
      }
      return { opened: [], closed: [] };
    }
    const record: ConflictRecord = {
      id,
      kind: "merge-clash",
      container: "entity",
      entity: rec.entity,
      field: rec.field,
      clashId,
      values: rec.values.map((v) => ({
        value: v.value,
        opId: v.from,
        bundle: null,
        peer: null,
        hlc: rec.hlc ?? null,
        actor: null,
        changeSet: v.from,
      })),
      provisional: rec.values[0]?.value ?? null,
    };
    if (this.open.has(id)) return { opened: [], closed: [] };
    this.insert(record);
    return { opened: [record], closed: [] };
  }

  /** Install records loaded from disk (after checking they still hold). */
  restore(records: ConflictRecord[]): void {
    for (const r of records) this.insert(r);
    this.regroup();
  }

  bulkConflicts(): BulkConflict[] {
    const groups = new Map<string, ConflictRecord[]>();
    for (const r of this.open.values()) {
      if (!r.bulk) continue;
      const g = groups.get(r.bulk);
      if (g) g.push(r);
      else groups.set(r.bulk, [r]);
    }
    const out: BulkConflict[] = [];
    for (const [id, recs] of groups) {
      const sides = new Map<string, { changeSet: string; peer: string | null; actor: Actor | null }>();
      for (const v of recs[0].values) sides.set(v.changeSet, { changeSet: v.changeSet, peer: v.peer, actor: v.actor });
      out.push({ id, count: recs.length, sides: [...sides.values()], conflicts: recs.map((r) => r.id).sort() });
    }
    return out.sort((a, b) => (a.id < b.id ? -1 : 1));
  }

  private decode(loc: ConflictLocation, v: ReturnType<Backend["getAll"]>[number]): FieldValue {
    const def = loc.container === "entity" ? this.schema.fields.get(loc.key) : undefined;
    if (def) return decodeValue(this.be, def, v as never);
    return v[0] === "map" || v[0] === "list" || v[0] === "text" || v[0] === "table" ? null : (v[1] as FieldValue);
  }

  private allEqual(loc: ConflictLocation, all: ReturnType<Backend["getAll"]>): boolean {
    const first = JSON.stringify(this.decode(loc, all[0]));
    for (let i = 1; i < all.length; i++) if (JSON.stringify(this.decode(loc, all[i])) !== first) return false;
    return true;
  }

  /** A value with who wrote it: bundle, peer, HLC, actor and change set (script run id, else bundle). */
  private describe(loc: ConflictLocation, v: ReturnType<Backend["getAll"]>[number]): ConflictValue {
    const opId = opIdOf(v);
    const bundle = this.locator.changeOf(opId);
    const meta = bundle ? this.locator.meta(bundle) : null;
    const runId = meta?.origin && typeof meta.origin.runId === "string" ? meta.origin.runId : null;
    return {
      value: this.decode(loc, v),
      opId,
      bundle,
      peer: meta?.peer ?? null,
      hlc: meta?.hlc ?? null,
      actor: meta?.actor ?? null,
      changeSet: runId ?? bundle ?? opId,
    };
  }

  private build(id: string, loc: ConflictLocation, all: ReturnType<Backend["getAll"]>): ConflictRecord {
    const values: ConflictValue[] = all.map((v) => this.describe(loc, v));
    // Latest HLC wins provisionally; Automerge's own order breaks ties, identically on every peer.
    let best = values[values.length - 1];
    for (const v of values) if ((v.hlc ?? "") > (best.hlc ?? "")) best = v;
    return { id, kind: "concurrent", container: loc.container, entity: loc.entity, field: loc.key, values, provisional: best.value };
  }

  private insert(r: ConflictRecord): void {
    this.open.set(r.id, r);
    this.byKey.set(ConflictTracker.keyOf(r.container, r.entity, r.field), r.id);
  }

  private remove(id: string): void {
    const r = this.open.get(id);
    if (!r) return;
    this.open.delete(id);
    const key = ConflictTracker.keyOf(r.container, r.entity, r.field);
    if (this.byKey.get(key) === id) this.byKey.delete(key);
  }

  /** Assign bulk ids: conflicts sharing the same pair of change sets, when more than the threshold. */
  private regroup(): void {
    const pairs = new Map<string, ConflictRecord[]>();
    for (const r of this.open.values()) {
      const sets = [...new Set(r.values.map((v) => v.changeSet))].sort();
      const pair = sets.join("\u0000");
      const g = pairs.get(pair);
      if (g) g.push(r);
      else pairs.set(pair, [r]);
    }
    for (const [pair, recs] of pairs) {
      const bulk = recs.length > BULK_THRESHOLD ? "b" + createHash("sha256").update(pair).digest("hex").slice(0, 20) : undefined;
      for (const r of recs) {
        if (bulk) r.bulk = bulk;
        else delete r.bulk;
      }
    }
  }
}

function opIdOf(v: ReturnType<Backend["getAll"]>[number]): string {
  // Scalars carry the op id third; objects (map/list/text) carry it second.
  return (v.length === 3 ? v[2] : v[1]) as string;
}
