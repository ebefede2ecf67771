/**
 * The history of a workspace: its bundles newest first (by HLC), and per
 * entity. Derived from the change metadata in the document, so it needs no
 * storage of its own and is the same on every peer.
 */
import type { BundleInfo } from "./operations.ts";

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
      if (last && last.meta.hlc > info.meta.hlc) this.sorted = false;
      this.all.push(info);
      for (const e of info.meta.entities ?? []) {
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

  list(entity: string | undefined, limit: number): BundleInfo[] {
    if (!this.sorted) {
      this.all.sort(byHlc);
      for (const list of this.byEntity.values()) list.sort(byHlc);
      this.sorted = true;
    }
    const source = entity === undefined ? this.all : (this.byEntity.get(entity) ?? []);
    const out: BundleInfo[] = [];
    for (let i = source.length - 1; i >= 0 && out.length < limit; i--) out.push(source[i]);
    return out;
  }
}

function byHlc(a: BundleInfo, b: BundleInfo): number {
  return a.meta.hlc < b.meta.hlc ? -1 : a.meta.hlc > b.meta.hlc ? 1 : a.hash < b.hash ? -1 : 1;
}
