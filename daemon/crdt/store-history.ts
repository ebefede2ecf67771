/**
 * The workspace's history: every bundle with its metadata, newest first,
 * built on first use from the change metadata in the document itself and
 * kept current as bundles land.
 */
import { bundleChanges } from "./bundle-changes.ts";
import type { BundleChanges } from "./bundle-changes.ts";
import { parseBundleMeta } from "./change-locator.ts";
import { HistoryIndex } from "./history-index.ts";
import type { BundleInfo } from "./operations.ts";
import type { StoreContext } from "./store-context.ts";
import type { HistoryEntry } from "./store-types.ts";

export class StoreHistory {
  private index: HistoryIndex | null = null;

  constructor(private readonly ctx: Pick<StoreContext, "be" | "doc">) {}

  /** Bundles that just landed; nothing to do while the history was never asked for. */
  add(infos: BundleInfo[]): void {
    this.index?.add(infos);
  }

  /** Bundles newest first, optionally only those that touched an entity. */
  list(entity: string | undefined, limit: number): HistoryEntry[] {
    return this.built().list(entity, limit);
  }

  get size(): number {
    return this.built().size;
  }

  /** What a bundle of the history changed, at most `limit` changes listed. */
  changes(hash: string, limit: number): BundleChanges {
    return bundleChanges(this.ctx.doc, this.ctx.be, hash, limit);
  }

  private built(): HistoryIndex {
    if (!this.index) {
      this.index = new HistoryIndex();
      const infos: BundleInfo[] = [];
      for (const m of this.ctx.be.getChangesMeta([])) {
        const meta = parseBundleMeta(m.message);
        if (meta) infos.push({ hash: m.hash, meta });
      }
      this.index.add(infos);
    }
    return this.index;
  }
}
