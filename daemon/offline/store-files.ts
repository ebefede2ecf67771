/**
 * The show's store files without a daemon: a read-only damage report
 * (`openprod store inspect`), and recovery of a damaged store (`openprod store
 * recover`, daemon stopped). The store's code is loaded on first use.
 */
import type { RecoverReport, StorageReport } from "../crdt/index.ts";

/** What `inspectStorage` reports about the store of the show at `dir`; changes nothing on disk. */
export async function inspectShowStore(dir: string): Promise<StorageReport> {
  const { inspectStorage } = await import("../crdt/persistence/index.ts");
  const { showDirectory } = await import("../config/index.ts");
  const dirs = showDirectory(dir);
  return inspectStorage(dirs.storeDir, { acknowledgedFile: dirs.acknowledgedFile });
}

export interface RecoveredShow {
  report: RecoverReport;
  /** The show's directory, resolved. */
  root: string;
  /** `[peer] connect` of the show: where the missing bundles will come from. */
  connect: string[];
}

/** Recovers the store of the show at `dir` (keeps what verifies, moves the damaged store aside). */
export async function recoverShowStore(dir: string): Promise<RecoveredShow> {
  const { loadShow } = await import("../config/index.ts");
  const { recoverStore } = await import("../crdt/index.ts");
  const { peerSettings } = await import("../server/light.ts");
  const show = await loadShow(dir);
  const report = await recoverStore({ dir: show.dir.storeDir, acknowledgedFile: show.dir.acknowledgedFile, workspaceId: show.config.workspace.id });
  return { report, root: show.dir.root, connect: peerSettings(show.config.peer, show.dir.root).connect };
}
