/**
 * Finds the change (bundle) that produced an Automerge operation id
 * (`counter@actor`), so a conflicting value can be shown with the peer, HLC
 * and actor that wrote it. Built lazily from the document's change metadata
 * and kept current as changes arrive.
 */
import type { Backend } from "./automerge-backend.ts";
import type { BundleMeta } from "./operations.ts";

interface ActorChanges {
  starts: number[];
  hashes: string[];
}

type ChangeMetadata = NonNullable<ReturnType<Backend["getChangeMetaByHash"]>>;

export class ChangeLocator {
  private byActor: Map<string, ActorChanges> | null = null;
  private readonly metaCache = new Map<string, BundleMeta | null>();

  constructor(private readonly be: Backend) {}

  isBuilt(): boolean {
    return this.byActor !== null;
  }

  /** Record changes just applied (cheap; ignored until first use builds the table). */
  added(metas: ChangeMetadata[]): void {
    if (!this.byActor) return;
    for (const m of metas) this.insert(m);
  }

  /** The hash of the change containing op `opId`, or null. */
  changeOf(opId: string): string | null {
    const at = opId.indexOf("@");
    if (at < 0) return null;
    const counter = Number(opId.slice(0, at));
    const actor = opId.slice(at + 1);
    const table = this.table().get(actor);
    if (!table) return null;
    let lo = 0;
    let hi = table.starts.length - 1;
    let found = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (table.starts[mid] <= counter) {
        found = mid;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    return found >= 0 ? table.hashes[found] : null;
  }

  /** Parsed bundle metadata of a change (null for changes without openprod metadata). */
  meta(hash: string): BundleMeta | null {
    const cached = this.metaCache.get(hash);
    if (cached !== undefined) return cached;
    const m = this.be.getChangeMetaByHash(hash);
    const parsed = m ? parseBundleMeta(m.message) : null;
    if (this.metaCache.size > 10_000) this.metaCache.clear();
    this.metaCache.set(hash, parsed);
    return parsed;
  }

  private table(): Map<string, ActorChanges> {
    if (!this.byActor) {
      this.byActor = new Map();
      for (const m of this.be.getChangesMeta([])) this.insert(m);
    }
    return this.byActor;
  }

  private insert(m: ChangeMetadata): void {
    const map = this.byActor as Map<string, ActorChanges>;
    let t = map.get(m.actor);
    if (!t) {
      t = { starts: [], hashes: [] };
      map.set(m.actor, t);
    }
    // Changes of one actor arrive in seq order, which is startOp order.
    let i = t.starts.length;
    while (i > 0 && t.starts[i - 1] > m.startOp) i--;
    if (t.starts[i - 1] === m.startOp) return;
    t.starts.splice(i, 0, m.startOp);
    t.hashes.splice(i, 0, m.hash);
  }
}

export function parseBundleMeta(message: string | null): BundleMeta | null {
  if (!message) return null;
  try {
    const m = JSON.parse(message) as Partial<BundleMeta>;
    return m && m.v === 1 && typeof m.hlc === "string" ? (m as BundleMeta) : null;
  } catch {
    return null;
  }
}
