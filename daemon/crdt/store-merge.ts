/**
 * Merge intake: Automerge sync sessions with peers, and absorbing the changes
 * a peer sent into indexes, conflicts, disk and the change feed.
 */
import { api } from "./automerge-backend.ts";
import type { Backend, Heads, WasmSyncState } from "./automerge-backend.ts";
import { parseBundleMeta } from "./change-locator.ts";
import { InvalidOperation } from "./errors.ts";
import type { BundleInfo } from "./operations.ts";
import { digestPatches } from "./patch-events.ts";
import type { RecordWrite } from "./persistence/index.ts";
import { examineMerge } from "./store-conflicts.ts";
import type { StoreContext } from "./store-context.ts";
import { NS_SYNC, headsEqual } from "./store-context.ts";
import type { Durability } from "./store-durability.ts";
import { DIGEST_SLICE, applyToIndexesSliced, forget } from "./store-indexing.ts";
import type { SyncSession } from "./store-types.ts";

type ChangeMetadata = ReturnType<Backend["getChangesMeta"]>[number];

/** Below this many changes a merge is always stored change by change. */
const SAVE_FROM_CHANGES = 1000;

/**
 * Whether a merge of `arrived` changes into a document of `total` is made durable as one full save
 * rather than one record per change. Reading each change back costs tens of µs and its record
 * hundreds of bytes, while a save costs a few µs per change of the whole history and compresses it
 * to a fraction: a peer catching up on most of the history (a fresh peer joining) saves.
 */
export function persistsAsSave(arrived: number, total: number): boolean {
  return arrived >= SAVE_FROM_CHANGES && arrived * 4 >= total;
}

export class MergeIntake {
  constructor(
    private readonly ctx: StoreContext,
    private readonly durability: Durability,
  ) {}

  /** Start or resume Automerge sync with a peer; its sync state is persisted. */
  async openSyncSession(peerId: string): Promise<SyncSession> {
    const { be, persistence, status } = this.ctx;
    const saved = await persistence.records(NS_SYNC).get(peerId);
    let state: WasmSyncState;
    try {
      state = saved ? api.decodeSyncState(saved) : api.initSyncState();
    } catch {
      state = api.initSyncState();
    }
    return {
      generateMessage: () => {
        // Never advertise heads that are not durable yet.
        if (status.closed || status.pendingDurable > 0) return null;
        return be.generateSyncMessage(state);
      },
      receiveMessage: (msg) => this.receiveSync(peerId, state, msg),
      close: async () => {
        if (status.closed) return;
        await persistence.records(NS_SYNC).put(peerId, api.encodeSyncState(state));
      },
    };
  }

  private async receiveSync(peerId: string, state: WasmSyncState, msg: Uint8Array): Promise<void> {
    const release = await this.ctx.lock.acquire();
    try {
      await this.receiveSyncLocked(peerId, state, msg, release);
    } finally {
      release();
    }
  }

  private async receiveSyncLocked(peerId: string, state: WasmSyncState, msg: Uint8Array, release: () => void): Promise<void> {
    const { be, hlc, persistence } = this.ctx;
    this.ctx.status.assertWritable();
    try {
      api.decodeSyncMessage(msg);
    } catch (e) {
      throw new InvalidOperation(`peer ${peerId} sent an undecodable sync message: ${(e as Error).message}`, { peer: peerId });
    }
    const before = be.getHeads();
    try {
      be.receiveSyncMessage(state, msg);
    } catch (e) {
      throw new InvalidOperation(`peer ${peerId} sent a sync message that could not be applied: ${(e as Error).message}`, { peer: peerId });
    }
    const after = be.getHeads();
    const syncWrite: RecordWrite = { namespace: NS_SYNC, key: peerId, value: api.encodeSyncState(state) };
    if (headsEqual(before, after)) {
      const written = persistence.writeRecords([syncWrite]);
      release();
      await written;
      return;
    }
    // One listing of what arrived serves the metadata, the locator and the choice of how to persist it.
    const metas = be.getChangesMeta(before);
    const infos: BundleInfo[] = [];
    for (const m of metas) {
      const meta = parseBundleMeta(m.message);
      if (meta) {
        infos.push({ hash: m.hash, meta });
        hlc.observe(meta.hlc);
      }
    }
    await this.absorb(before, metas, infos, [syncWrite], release);
  }

  /** Persist and announce a peer's changes, already in the document since `before`. Called holding the write lock, which it releases. */
  private async absorb(before: Heads, metas: ChangeMetadata[], infos: BundleInfo[], side: RecordWrite[], release: () => void): Promise<void> {
    const ctx = this.ctx;
    const { be, doc, status, tracker } = ctx;
    // The document moved under the caches: readers must not trust them while this merge is digested.
    doc.invalidateAll();
    status.pendingDurable++;
    let digest;
    // Null: persisted as one full save (see persistsAsSave).
    let changes: { hash: string; bytes: Uint8Array }[] | null;
    try {
      ctx.locator.added(metas);
      changes = persistsAsSave(metas.length, be.stats().numChanges) ? null : metas.map((m) => ({ hash: m.hash, bytes: be.getChangeByHash(m.hash) as Uint8Array }));
      // Applying a big sync message and diffing it are two long wasm calls: let other work run between them.
      if (metas.length > 0) await new Promise<void>((resolve) => setImmediate(resolve));
      const patches = be.diff(before, be.getHeads());
      digest = await digestPatches(doc, be, patches, before, {
        isTracked: (container, id, key) => tracker.has(container, id, key),
        yieldEvery: DIGEST_SLICE,
      });
    } finally {
      status.pendingDurable--;
    }
    forget(ctx, digest.touched);
    const delta = examineMerge(ctx, digest);
    // Indexes follow what every copy shows, so they are updated only once conflicts are known.
    await applyToIndexesSliced(ctx, digest.changes);
    const durable = changes === null ? this.durability.persistAsSave(infos, delta, side) : this.durability.persist(changes, infos, delta, side);
    release();
    await durable;
    this.durability.announce("remote", infos, digest.changes, delta);
  }
}
