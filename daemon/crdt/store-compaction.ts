/**
 * Compaction: a full save of the document replaces the incremental change
 * records, and the indexes are saved beside it so a restart need not scan.
 */
import type { Heads } from "./automerge-backend.ts";
import type { LoadedState } from "./persistence/index.ts";
import type { StoreContext } from "./store-context.ts";
import { saveIndexSnapshot } from "./store-indexing.ts";

export class Compaction {
  private bundlesSince = 0;
  /** Bytes of change records stored since the last compaction, and the size of its full save. */
  private bytesSince = 0;
  private lastSaveBytes = 0;

  constructor(private readonly ctx: StoreContext) {}

  /** Where the store stood at open: the changes stored since the snapshot count towards the next compaction. */
  resume(loaded: LoadedState): void {
    this.bundlesSince = loaded.changes.length;
    this.bytesSince = loaded.changes.reduce((sum, c) => sum + c.bytes.byteLength, 0);
    this.lastSaveBytes = loaded.snapshot?.bytes.byteLength ?? 0;
  }

  /** Changes just made durable. */
  stored(changes: { bytes: Uint8Array }[]): void {
    this.bundlesSince += changes.length;
    for (const c of changes) this.bytesSince += c.bytes.byteLength;
  }

  /**
   * A full save costs time in proportion to the whole history; waiting for as many bytes of new
   * changes as the last save held keeps that cost, spread over the bundles in between, flat.
   */
  due(): boolean {
    return this.bundlesSince >= this.ctx.compactEvery && this.bytesSince >= this.lastSaveBytes;
  }

  /** Compact now, covering every change up to `lastSeq()` (read under the write lock). */
  async run(lastSeq: () => number): Promise<void> {
    const { be, lock, persistence, status } = this.ctx;
    const release = await lock.acquire();
    let heads: Heads;
    let saveBytes: number;
    let compacted: Promise<void>;
    try {
      status.assertWritable();
      heads = be.getHeads();
      const save = be.save();
      saveBytes = save.byteLength;
      compacted = persistence.compact(save, heads, lastSeq());
    } finally {
      release();
    }
    await compacted;
    this.saved(saveBytes);
    await saveIndexSnapshot(this.ctx, heads);
  }

  /** A full save of `saveBytes` now covers every stored change (this compaction's, or a merge stored as a save). */
  saved(saveBytes: number): void {
    this.bundlesSince = 0;
    this.bytesSince = 0;
    this.lastSaveBytes = saveBytes;
  }
}
