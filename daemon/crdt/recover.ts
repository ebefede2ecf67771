/**
 * `openprod store recover`: gets a damaged peer back in service. What still
 * verifies is kept (checksummed records that Automerge can apply), the
 * damaged store is moved aside exactly as it is, and a new store starts from
 * what was kept. The bundles that were lost come back from the peers: the
 * daemon's ordinary sync fetches every change this peer lacks.
 */
import { api, createBackend, loadBackend } from "./automerge-backend.ts";
import type { Backend } from "./automerge-backend.ts";
import { StorageError } from "./errors.ts";
import { moveStoreAside, openPersistence, salvageStorage } from "./persistence/index.ts";
import type { DamagedFile } from "./persistence/index.ts";

export interface RecoverOptions {
  /** The store's LevelDB directory. */
  dir: string;
  /** Its acknowledged record, when kept apart (as the daemon does). */
  acknowledgedFile?: string;
  /** The show's workspace id: a store of another workspace is not "recovered" into this one. */
  workspaceId: string;
  now?: Date;
}

export interface RecoverReport {
  dir: string;
  /** Where the damaged store now is; null when there was nothing to move (the store was gone). */
  movedTo: string | null;
  /** Changes in the new store. */
  kept: number;
  /** Bundles the old store had acknowledged (null without a record). */
  acknowledged: number | null;
  /** Verified changes that could not be kept (their history is incomplete until a peer sends the rest). */
  waitingForPeers: number;
  /** Side records carried over. */
  records: number;
  /** Records that failed their checksums, left behind in the moved store. */
  damagedRecords: number;
  damagedFiles: DamagedFile[];
}

/**
 * Peer sync states describe what the other side believes we have; after a
 * loss they would be wrong, so sync starts afresh (a full exchange of heads).
 */
const DROPPED_NAMESPACES = new Set(["sync"]);

export async function recoverStore(opts: RecoverOptions): Promise<RecoverReport> {
  const salvage = await salvageStorage(opts.dir, opts.acknowledgedFile);
  const be = rebuild(salvage.snapshot, salvage.changes.map((c) => c.bytes));
  try {
    const kept = be.getChanges([]).map((bytes) => ({ hash: api.decodeChange(bytes).hash, bytes }));
    const keptHashes = new Set(kept.map((c) => c.hash));
    const workspace = kept.length > 0 ? be.get("_root", "workspace") : opts.workspaceId;
    if (workspace !== undefined && workspace !== opts.workspaceId) {
      throw new StorageError(
        `the store at ${opts.dir} holds workspace "${String(workspace)}", not "${opts.workspaceId}" (openprod.toml [workspace] id); nothing was moved or changed`,
        { dir: opts.dir, stored: workspace, expected: opts.workspaceId },
      );
    }
    const records = salvage.records.filter((r) => !DROPPED_NAMESPACES.has(r.namespace));
    const movedTo = moveStoreAside(opts.dir, opts.acknowledgedFile, opts.now);
    const p = await openPersistence({ dir: opts.dir, fsync: true, acknowledgedFile: opts.acknowledgedFile });
    try {
      if (kept.length > 0) {
        await p.appendChanges(kept, be.getHeads(), records);
      } else if (records.length > 0) {
        await p.writeRecords(records);
      }
    } finally {
      await p.close();
    }
    return {
      dir: opts.dir,
      movedTo,
      kept: kept.length,
      acknowledged: salvage.acknowledgedSeq,
      waitingForPeers: salvage.changes.filter((c) => !keptHashes.has(c.hash)).length,
      records: records.length,
      damagedRecords: salvage.damagedRecords,
      damagedFiles: salvage.damagedFiles,
    };
  } finally {
    be.free();
  }
}

/** The document from a snapshot and changes; a change Automerge cannot decode is left out, one with missing deps waits in its queue. */
function rebuild(snapshot: Uint8Array | null, changes: Uint8Array[]): Backend {
  let be: Backend;
  try {
    be = snapshot === null ? createBackend() : loadBackend(snapshot);
  } catch {
    be = createBackend();
  }
  try {
    be.applyChanges(changes);
  } catch {
    // One bad change fails the whole call: apply them one by one to keep the good ones.
    for (const c of changes) {
      try {
        be.applyChanges([c]);
      } catch {
        // Undecodable although its checksum held (written damaged): a peer will send the real one.
      }
    }
  }
  return be;
}
