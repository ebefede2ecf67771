/**
 * Persistence wiring: opening the workspace from its persistence backend
 * (refusing one that is damaged, incomplete or another workspace's), the
 * genesis change of a fresh workspace, the clock resumed after every HLC the
 * workspace has seen, and what close leaves behind.
 */
import { randomBytes } from "node:crypto";
import { createBackend, loadBackend } from "./automerge-backend.ts";
import type { Backend } from "./automerge-backend.ts";
import { parseBundleMeta } from "./change-locator.ts";
import { StorageError } from "./errors.ts";
import { genesisChange } from "./genesis.ts";
import { HybridLogicalClock } from "./hlc.ts";
import type { LoadedState, WorkspacePersistence } from "./persistence/index.ts";
import { restoreConflicts } from "./store-conflicts.ts";
import type { StoreContext } from "./store-context.ts";
import { LAST_HLC, NS_META, createStoreContext, dec, enc, headsEqual } from "./store-context.ts";
import { loadIndexes } from "./store-indexing.ts";
import type { StoreOptions } from "./store-types.ts";

export interface OpenedStore {
  ctx: StoreContext;
  loaded: LoadedState;
  /** The change bytes stored after the snapshot, in seq order (a fresh workspace's genesis included). */
  logged: Uint8Array[];
  /** The seq of the last durable change. */
  lastSeq: number;
}

/** Opens the backend and the workspace on it; on refusal the backend is closed again. */
export async function openStore(opts: StoreOptions): Promise<OpenedStore> {
  const persistence = await opts.persistence();
  try {
    const loaded = await persistence.load();
    const dir = persistence.location;
    refuseDamaged(dir, loaded);
    const { be, fresh } = loadDocument(dir, loaded, opts.workspaceId);
    checkComplete(dir, loaded, be);
    const storedWs = be.get("_root", "workspace");
    if (storedWs !== opts.workspaceId) {
      throw new StorageError(`the store at ${dir} holds workspace "${String(storedWs)}", not "${opts.workspaceId}" (openprod.toml [workspace] id)`, {
        dir,
        stored: storedWs,
        expected: opts.workspaceId,
      });
    }
    const ctx = createStoreContext(be, persistence, await resumeClock(persistence, be, opts), opts);
    let lastSeq = loaded.changes.length ? loaded.changes[loaded.changes.length - 1].seq : (loaded.snapshot?.uptoSeq ?? 0);
    const logged = loaded.changes.map((c) => c.bytes);
    if (fresh) {
      const heads = be.getHeads();
      const genesis = heads.map((h) => ({ hash: h, bytes: be.getChangeByHash(h) as Uint8Array }));
      lastSeq = await persistence.appendChanges(genesis, heads);
      logged.push(...genesis.map((c) => c.bytes));
    }
    await loadIndexes(ctx);
    await restoreConflicts(ctx);
    return { ctx, loaded, logged, lastSeq };
  } catch (e) {
    await persistence.close().catch(() => undefined);
    throw e;
  }
}

/** Saves the clock, closes the backend and frees the document. */
export async function closeStore(ctx: StoreContext): Promise<void> {
  await ctx.persistence.writeRecords([{ namespace: NS_META, key: LAST_HLC, value: enc.encode(ctx.hlc.last()) }]).catch(() => undefined);
  await ctx.persistence.close();
  ctx.be.free();
}

function refuseDamaged(dir: string, loaded: LoadedState): void {
  if (loaded.damaged.length === 0) return;
  const list = loaded.damaged.map((d) => `${d.key}${d.seq !== undefined ? ` (bundle #${d.seq})` : ""}: ${d.reason}`);
  throw new StorageError(
    `the workspace store at ${dir} has ${loaded.damaged.length} damaged record(s): ${list.slice(0, 5).join("; ")}` +
      `${list.length > 5 ? "; ..." : ""}. Nothing was changed on disk; \`openprod store inspect\` lists which bundles are recoverable.`,
    { dir, damaged: loaded.damaged },
  );
}

/** The document from the snapshot and the changes after it; a fresh workspace starts with its genesis change. */
function loadDocument(dir: string, loaded: LoadedState, workspaceId: string): { be: Backend; fresh: boolean } {
  // A fresh actor per process: a change that never became durable can never reuse its sequence number.
  const actor = randomBytes(16).toString("hex");
  let be: Backend;
  try {
    if (loaded.snapshot) be = loadBackend(loaded.snapshot.bytes, actor);
    else be = createBackend(actor);
    if (loaded.changes.length > 0) be.applyChanges(loaded.changes.map((c) => c.bytes));
  } catch (e) {
    throw new StorageError(`the workspace store at ${dir} could not be loaded: ${(e as Error).message}`, { dir });
  }
  if (!loaded.snapshot && loaded.changes.length === 0) {
    be.applyChanges([genesisChange(workspaceId)]);
    return { be, fresh: true };
  }
  return { be, fresh: false };
}

/** The stored changes must lead to the heads recorded by the last write, and hold the heads acknowledged. */
function checkComplete(dir: string, loaded: LoadedState, be: Backend): void {
  if (loaded.recordedHeads && !headsEqual(loaded.recordedHeads, be.getHeads())) {
    const missing = be.getMissingDeps(loaded.recordedHeads);
    throw new StorageError(
      `the workspace store at ${dir} is incomplete: it recorded heads ${loaded.recordedHeads.join(",")} but the stored changes lead to ${be.getHeads().join(",")}` +
        (missing.length ? ` (missing changes ${missing.join(", ")})` : ""),
      { dir, recordedHeads: loaded.recordedHeads, heads: be.getHeads(), missing },
    );
  }
  // The seqs were checked at open; the heads too, in case a change went missing under its seq.
  const lostHeads = loaded.acknowledged ? be.getMissingDeps(loaded.acknowledged.heads) : [];
  if (loaded.acknowledged && lostHeads.length > 0) {
    throw new StorageError(
      `the workspace store at ${dir} holds less than it acknowledged: ${loaded.acknowledged.file} records heads it does not have (${lostHeads.join(", ")}). ` +
        "Nothing was changed on disk; `openprod store recover` keeps what verifies and syncs the rest from a peer",
      { dir, file: loaded.acknowledged.file, missingHeads: lostHeads },
    );
  }
}

/**
 * The clock resumes after every HLC this workspace has seen: the head changes carry the
 * greatest (HLCs grow along causality), and the value saved at close covers the rest.
 */
async function resumeClock(persistence: WorkspacePersistence, be: Backend, opts: StoreOptions): Promise<HybridLogicalClock> {
  const lastHlc = await persistence.records(NS_META).get(LAST_HLC);
  const now = opts.now ?? Date.now;
  const last = lastHlc ? dec.decode(lastHlc) : undefined;
  const hlc = opts.continuesClock && last ? HybridLogicalClock.continuing(opts.peerId, now, last) : new HybridLogicalClock(opts.peerId, now, last);
  for (const h of be.getHeads()) {
    const m = parseBundleMeta(be.getChangeMetaByHash(h)?.message ?? null);
    // A continued clock stands at or past every head it issued; one it did not is observed.
    if (m && !(opts.continuesClock && m.hlc <= hlc.last())) hlc.observe(m.hlc);
  }
  return hlc;
}
