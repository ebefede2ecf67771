/**
 * The history of a workspace as the document itself tells it: its bundles
 * newest first (by HLC, then hash), and per entity, from the metadata of every
 * change. The same on every peer holding the same heads. Decoding every change
 * costs time in proportion to the history, so the store answers from its
 * persisted record space (history-records.ts) and builds this only to write
 * that space afresh (a store from before it, or one whose space is damaged).
 */
import type { Backend } from "./automerge-backend.ts";
import { parseBundleMeta } from "./change-locator.ts";
import { entitiesOf } from "./history-records.ts";
import type { BundleInfo } from "./operations.ts";

/** Every bundle of the document, read from its changes' metadata. */
export function historyOfDocument(be: Backend): HistoryIndex {
  const infos: BundleInfo[] = [];
  for (const m of be.getChangesMeta([])) {
    const meta = parseBundleMeta(m.message);
    if (meta) infos.push({ hash: m.hash, meta });
  }
  const index = new HistoryIndex();
  index.add(infos);
  return index;
}

export class HistoryIndex {
  private readonly all: BundleInfo[] = [];
  private readonly byEntity = new Map<string, BundleInfo[]>();
  private readonly seen = new Set<string>();
  private sorted = true;

  add(infos: BundleInfo[]): void {
    for (const info of infos) {
      if (this.seen.has(info.hash)) continue;
      this.seen.add(info.hash);
      const last = this.all[this.all.length - 1];
      if (last && byHlc(last, info) > 0) this.sorted = false;
      this.all.push(info);
      for (const e of entitiesOf(info)) {
        const list = this.byEntity.get(e);
        if (list) list.push(info);
        else this.byEntity.set(e, [info]);
      }
    }
  }

  /** Bundles in the history: the same on every peer holding the same heads. */
  get size(): number {
    return this.all.length;
  }

  /** Every bundle, oldest first. */
  entries(): readonly BundleInfo[] {
    this.sort();
    return this.all;
  }

  list(entity: string | undefined, limit: number): BundleInfo[] {
    this.sort();
    const source = entity === undefined ? this.all : (this.byEntity.get(entity) ?? []);
    const out: BundleInfo[] = [];
    for (let i = source.length - 1; i >= 0 && out.length < limit; i--) out.push(source[i]);
    return out;
  }

  private sort(): void {
    if (!this.sorted) {
      this.all.sort(byHlc);
      for (const list of this.byEntity.values()) list.sort(byHlc);
      this.sorted = true;
    }
  }
}

function byHlc(a: BundleInfo, b: BundleInfo): number {
  return a.meta.hlc < b.meta.hlc ? -1 : a.meta.hlc > b.meta.hlc ? 1 : a.hash < b.hash ? -1 : 1;
}
