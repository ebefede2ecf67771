/**
 * The workspace's history: every bundle with its metadata, newest first, read
 * from the history's record space (history-records.ts). Each bundle's records
 * go into the atomic batch that stores its change, so a listing is a bounded
 * reverse range read however long the history. A space that does not cover
 * the document's heads (a store from before it, one recovered, one written by
 * an older daemon) or that is damaged is written afresh from the document:
 * the history is never answered short.
 */
import type { Heads } from "./automerge-backend.ts";
import { bundleChanges } from "./bundle-changes.ts";
import type { BundleChanges } from "./bundle-changes.ts";
import { StorageError } from "./errors.ts";
import { historyOfDocument } from "./history-index.ts";
import type { HistoryIndex } from "./history-index.ts";
import {
  BUNDLE_PREFIX,
  NS_HISTORY,
  STATE_KEY,
  bundleKeyOfEntityKey,
  bundleWrites,
  decodeBundle,
  decodeState,
  deleteWrite,
  entityPrefix,
  stateWrite,
} from "./history-records.ts";
import type { BundleInfo } from "./operations.ts";
import type { RecordSpace, RecordWrite } from "./persistence/index.ts";
import type { StoreContext } from "./store-context.ts";
import { headsEqual } from "./store-context.ts";
import type { HistoryEntry } from "./store-types.ts";

/** Records per batch while the space is written afresh: bounded memory for any history. */
const REBUILD_BATCH = 20_000;
/** Bundles per batch of a join's records: a few ms of the event loop each. */
const JOIN_BATCH = 2_000;

/** The space holds something other than what its state record promises. */
class DamagedHistory extends Error {}

export class StoreHistory {
  /** Bundles in the history, as the state record (kept current by every batch) counts them. */
  private count = 0;
  /** A rebuild in progress: listings wait for it rather than read a space half written. */
  private rebuilding: Promise<void> = Promise.resolve();
  /**
   * A join's records still being written after its save (see `addAfterSave`): until they are all
   * down, bundles write their records without the state record, so the space never claims heads
   * it does not cover, and listings wait. `failed`: they could not be written; the next listing
   * writes the space afresh.
   */
  private joining: Promise<void> | null = null;
  private failed = false;

  constructor(private readonly ctx: Pick<StoreContext, "be" | "doc" | "persistence" | "lock">) {}

  private get space(): RecordSpace {
    return this.ctx.persistence.records(NS_HISTORY);
  }

  /** At open: trust the space when it covers exactly the document's heads, else write it afresh. */
  async open(): Promise<void> {
    let state = null;
    try {
      state = decodeState(await this.space.get(STATE_KEY));
    } catch (e) {
      if (!(e instanceof StorageError)) throw e;
    }
    if (state !== null && headsEqual(state.heads, this.ctx.be.getHeads())) this.count = state.count;
    else await this.rebuild();
  }

  /**
   * The records of bundles about to be appended with `headsAfter`: the caller puts them in the
   * same atomic write as the bundles' changes (called in append order, under the write lock).
   */
  add(infos: BundleInfo[], headsAfter: Heads): RecordWrite[] {
    this.count += infos.length;
    if (this.joining !== null || this.failed) return bundleWrites(infos);
    return [...bundleWrites(infos), stateWrite({ v: 1, heads: headsAfter, count: this.count })];
  }

  /**
   * The records of a join that was stored as one save (`persistAsSave`), written once that save
   * is durable: in bounded batches one after the other (a join brings up to the whole history,
   * and one batch of it held the joiner's memory and event loop), then the state record, under
   * the write lock so every bundle applied meanwhile has its records queued before it. A crash
   * before the state record leaves the state of before the join, which the next open finds
   * behind the document and writes afresh.
   */
  addAfterSave(infos: BundleInfo[]): void {
    this.count += infos.length;
    const previous = this.joining ?? Promise.resolve();
    const run = previous.then(async () => {
      for (let i = 0; i < infos.length; i += JOIN_BATCH) await this.ctx.persistence.writeRecords(bundleWrites(infos.slice(i, i + JOIN_BATCH)));
    });
    const done: Promise<void> = run.then(
      async () => {
        if (this.joining !== done) return;
        const release = await this.ctx.lock.acquire();
        try {
          if (this.joining !== done) return;
          await this.ctx.persistence.writeRecords([stateWrite({ v: 1, heads: this.ctx.be.getHeads(), count: this.count })]);
          this.joining = null;
        } finally {
          release();
        }
      },
      () => {
        this.failed = true;
        if (this.joining === done) this.joining = null;
      },
    );
    this.joining = done;
  }

  /** Resolves once a join's records are written (at close: before the store's files are). */
  async settled(): Promise<void> {
    while (this.joining !== null) await this.joining.catch(() => undefined);
  }

  /** Bundles newest first, optionally only those that touched an entity. */
  async list(entity: string | undefined, limit: number): Promise<HistoryEntry[]> {
    await this.settled();
    await this.rebuilding;
    if (this.failed) {
      this.failed = false;
      return (await this.rebuild()).list(entity, limit);
    }
    try {
      return await this.read(entity, limit);
    } catch (e) {
      if (!(e instanceof StorageError) && !(e instanceof DamagedHistory)) throw e;
      // Damaged records: the document still knows the whole history; answer from it and write the space afresh.
      return (await this.rebuild()).list(entity, limit);
    }
  }

  get size(): number {
    return this.count;
  }

  /** What a bundle of the history changed, at most `limit` changes listed. */
  changes(hash: string, limit: number): BundleChanges {
    return bundleChanges(this.ctx.doc, this.ctx.be, hash, limit);
  }

  private async read(entity: string | undefined, limit: number): Promise<HistoryEntry[]> {
    const out: HistoryEntry[] = [];
    const space = this.space;
    // Read before the listing: batches only add, so the listing holds at least as many as this counts.
    const state = decodeState(await space.get(STATE_KEY));
    if (state === null) throw new DamagedHistory("the state record is missing or does not decode");
    if (entity === undefined) {
      for await (const [key, value] of space.list(BUNDLE_PREFIX, { reverse: true, limit })) out.push(this.decoded(key, value));
      if (out.length < Math.min(limit, state.count)) throw new DamagedHistory(`${out.length} bundle record(s) where ${state.count} are counted`);
      return out;
    }
    const prefix = entityPrefix(entity);
    for await (const [key] of space.list(prefix, { reverse: true, limit })) {
      const bundleKey = bundleKeyOfEntityKey(key, prefix);
      const value = await space.get(bundleKey);
      if (value === undefined) throw new DamagedHistory(`entity record ${key} points at no bundle record`);
      out.push(this.decoded(bundleKey, value));
    }
    return out;
  }

  private decoded(key: string, value: Uint8Array): BundleInfo {
    const info = decodeBundle(key, value);
    if (info === null) throw new DamagedHistory(`bundle record ${key} does not decode`);
    return info;
  }

  /**
   * Writes the space afresh from the document, under the write lock so that no bundle lands in
   * between: the state record goes first, then the old records, then every bundle's are put and
   * the state record comes last, so a crash half-way leaves a space rebuilt again at the next open.
   */
  private rebuild(): Promise<HistoryIndex> {
    const running = this.writeAfresh();
    this.rebuilding = running.then(
      () => undefined,
      () => undefined,
    );
    return running;
  }

  private async writeAfresh(): Promise<HistoryIndex> {
    const release = await this.ctx.lock.acquire();
    try {
      const { be, persistence } = this.ctx;
      const index = historyOfDocument(be);
      const heads = be.getHeads();
      let batch: RecordWrite[] = [deleteWrite(STATE_KEY)];
      const flush = async (atLeast: number): Promise<void> => {
        if (batch.length < atLeast) return;
        const full = batch;
        batch = [];
        await persistence.writeRecords(full);
      };
      for await (const key of this.space.keys()) {
        if (key === STATE_KEY) continue;
        batch.push(deleteWrite(key));
        await flush(REBUILD_BATCH);
      }
      await flush(1);
      for (const info of index.entries()) {
        batch.push(...bundleWrites([info]));
        await flush(REBUILD_BATCH);
      }
      batch.push(stateWrite({ v: 1, heads, count: index.size }));
      await flush(1);
      this.count = index.size;
      return index;
    } finally {
      release();
    }
  }
}
