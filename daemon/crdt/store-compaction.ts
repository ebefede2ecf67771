/**
 * Compaction: a full save of the document replaces the incremental change
 * records, and the indexes are saved beside it so a restart need not scan.
 *
 * A bundle is durable as its change record before any compaction: replacing
 * records with a save changes nothing that was acknowledged, so compaction
 * runs after the bundle that made it due was acknowledged, and its save is
 * made by a replica of the document on another thread (save-replica.ts).
 * The log between two saves is kept in memory (change bytes after the last
 * save) to start that replica again should it fail; the compaction policy
 * bounds it by the size of the last save.
 */
import type { Heads } from "./automerge-backend.ts";
import type { LoadedState } from "./persistence/index.ts";
import { SaveReplica, replicaAvailable } from "./save-replica.ts";
import type { StoreContext } from "./store-context.ts";
import { saveIndexSnapshot } from "./store-indexing.ts";

export class Compaction {
  private bundlesSince = 0;
  /** Bytes of change records stored since the last compaction, and the size of its full save. */
  private bytesSince = 0;
  private lastSaveBytes = 0;
  /** The full save installed last (null: none yet) and the change bytes stored after it, in seq order. */
  private base: Uint8Array | null = null;
  private since: Uint8Array[] = [];
  /** The seq of the last change in `since` (the save's when it is empty). */
  private sinceSeq = 0;
  private replica: SaveReplica | null = null;
  /** How many of `since` the replica has been fed. */
  private fed = 0;
  /** The compaction running, if any: one at a time. */
  private running: Promise<void> | null = null;
  private stopped = false;
  /** Whether this process stored any change (a read-only look at a store never compacts at close). */
  private storedHere = false;
  /** Bumped by a save made elsewhere (`saved`): a compaction that began before it must not install. */
  private generation = 0;
  /** Changes up to this seq are in a save made elsewhere; reports of them come late and are dropped. */
  private coveredSeq = 0;

  constructor(private readonly ctx: StoreContext) {}

  /** Where the store stood at open: the change bytes stored after the snapshot, up to `lastSeq`, in seq order. */
  resume(loaded: LoadedState, logged: Uint8Array[], lastSeq: number): void {
    this.base = loaded.snapshot?.bytes ?? null;
    this.since = logged;
    this.sinceSeq = lastSeq;
    this.bundlesSince = logged.length;
    this.bytesSince = logged.reduce((sum, c) => sum + c.byteLength, 0);
    this.lastSaveBytes = loaded.snapshot?.bytes.byteLength ?? 0;
  }

  /** Changes just made durable, the last of them with seq `seq` (calls come in seq order). */
  stored(changes: { bytes: Uint8Array }[], seq: number): void {
    if (seq <= this.coveredSeq) return;
    this.bundlesSince += changes.length;
    if (changes.length > 0) this.storedHere = true;
    for (const c of changes) {
      this.bytesSince += c.bytes.byteLength;
      this.since.push(c.bytes);
    }
    this.sinceSeq = seq;
  }

  /**
   * A full save costs time in proportion to the whole history; waiting for as many bytes of new
   * changes as the last save held keeps that cost, spread over the bundles in between, flat.
   */
  due(): boolean {
    return this.running === null && !this.stopped && this.bundlesSince >= this.ctx.compactEvery && this.bytesSince >= this.lastSaveBytes;
  }

  /** Starts a compaction without waiting for it; a failure leaves the log as it was, and the next one tries again. */
  start(): void {
    this.running = this.compactOnce("background")
      .catch(() => undefined)
      .finally(() => (this.running = null));
  }

  /** Compact now, covering every change made durable so far; resolves once the save is installed. */
  async run(): Promise<void> {
    while (this.running !== null) await this.running;
    const run = this.compactOnce("explicit");
    this.running = run.catch(() => undefined).finally(() => (this.running = null));
    await run;
  }

  /** Resolves once no compaction is running. */
  async idle(): Promise<void> {
    while (this.running !== null) await this.running;
  }

  /**
   * At close: no new compaction starts and the replica ends. When this process stored at least
   * `compact_every` bundles since the last save, one more compaction covers them first, so that
   * the next open loads one save instead of replaying the log (a change applied after a load
   * costs far more than one loaded with the save).
   */
  async stop(): Promise<void> {
    await this.idle();
    if (!this.stopped && this.storedHere && this.bundlesSince >= this.ctx.compactEvery && this.ctx.status.broken === null) {
      await this.compactOnce("final").catch(() => undefined);
    }
    this.stopped = true;
    const replica = this.replica;
    this.replica = null;
    await replica?.stop();
    await this.idle();
  }

  /**
   * One compaction. In the background the save comes from the replica; when asked for (an
   * explicit compact, the last one at close) and no replica runs yet, from the document itself,
   * which holds it already. At close the store no longer takes writes but may still compact.
   */
  private async compactOnce(mode: "background" | "explicit" | "final"): Promise<void> {
    const { be, lock, persistence, status } = this.ctx;
    const check = (): void => {
      if (mode !== "final") status.assertWritable();
    };
    check();
    const generation = this.generation;
    let covered: number;
    let uptoSeq: number;
    let save: { bytes: Uint8Array; heads: Heads };
    if ((mode === "background" || this.replica?.alive === true) && replicaAvailable()) {
      covered = this.since.length;
      uptoSeq = this.sinceSeq;
      save = await this.replicaSave();
    } else {
      const release = await lock.acquire();
      try {
        check();
        // Bundles queued but not yet durable are in the save too; their records stay until the next one.
        covered = this.since.length;
        uptoSeq = this.sinceSeq;
        save = { heads: be.getHeads(), bytes: be.save() };
      } finally {
        release();
      }
    }
    if (this.stopped || generation !== this.generation) return;
    check();
    await persistence.compact(save.bytes, save.heads, uptoSeq);
    if (generation !== this.generation) return;
    this.installed(save.bytes, covered);
    await saveIndexSnapshot(this.ctx, save.heads);
  }

  /** A save from the replica of every change in `since`, starting the replica when none runs. */
  private async replicaSave(): Promise<{ bytes: Uint8Array; heads: Heads }> {
    if (this.replica === null || !this.replica.alive) {
      this.replica = new SaveReplica(this.base, this.since.slice());
    } else {
      this.replica.feed(this.since.slice(this.fed));
    }
    this.fed = this.since.length;
    const replica = this.replica;
    try {
      return await replica.save();
    } catch (e) {
      // Started again from the log at the next compaction.
      if (this.replica === replica) this.replica = null;
      throw e;
    }
  }

  /** The save covering the first `covered` changes of `since` is on disk: those leave memory. */
  private installed(bytes: Uint8Array, covered: number): void {
    this.base = bytes;
    this.since = this.since.slice(covered);
    this.fed = Math.max(0, this.fed - covered);
    this.bundlesSince = this.since.length;
    this.bytesSince = this.since.reduce((sum, c) => sum + c.byteLength, 0);
    this.lastSaveBytes = bytes.byteLength;
  }

  /**
   * A full save made elsewhere (a merge stored as a save, see persistsAsSave) is installed and
   * covers every change up to `uptoSeq`: it is the new base. A compaction already under way
   * made its save from a document without that merge; it is abandoned (see `generation`), and
   * the replica, which lacks the merge too, starts again from this save at the next one.
   */
  saved(bytes: Uint8Array, uptoSeq: number): void {
    this.generation++;
    this.coveredSeq = Math.max(this.coveredSeq, uptoSeq);
    this.base = bytes;
    this.since = [];
    this.sinceSeq = Math.max(this.sinceSeq, uptoSeq);
    this.fed = 0;
    const replica = this.replica;
    this.replica = null;
    void replica?.stop().catch(() => undefined);
    this.bundlesSince = 0;
    this.bytesSince = 0;
    this.lastSaveBytes = bytes.byteLength;
  }
}
