import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { loadModules } from "../../daemon/config/index.ts";
import type { Schema } from "../../daemon/crdt/schema.ts";
import { WorkspaceStore } from "../../daemon/crdt/store.ts";
import type { StoreOptions } from "../../daemon/crdt/store.ts";
import { levelPersistence } from "../../daemon/crdt/persistence/index.ts";
import type { PersistenceOptions } from "../../daemon/crdt/persistence/index.ts";
import type { Actor } from "../../daemon/crdt/operations.ts";

export const EXAMPLE_SHOW = path.resolve(import.meta.dirname, "../../examples/show");
export const WORKSPACE_ID = "ws-test";

let cached: Schema | null = null;
export async function exampleSchema(): Promise<Schema> {
  if (!cached) cached = (await loadModules(EXAMPLE_SHOW)).schema;
  return cached;
}

export function tempDir(prefix = "openprod-test-"): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(path.join(tmpdir(), prefix));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Store settings, and the LevelDB backend's (at `dir`) unless `persistence` is given. */
export type TestStoreOptions = Partial<StoreOptions> & Omit<PersistenceOptions, "dir">;

export async function openTestStore(dir: string, extra: TestStoreOptions = {}): Promise<WorkspaceStore> {
  const { fsync, acknowledgedFile, readOnly, lockWaitMs, ...store } = extra;
  return WorkspaceStore.open({
    persistence: levelPersistence({ dir, fsync, acknowledgedFile, readOnly, lockWaitMs }),
    schema: await exampleSchema(),
    workspaceId: WORKSPACE_ID,
    peerId: extra.peerId ?? "peer-a",
    ...store,
  });
}

export const USER: { actor: Actor } = { actor: { kind: "user", name: "stage-manager" } };

/** Exchange Automerge sync messages between two stores until neither has anything to say. */
export async function syncStores(a: WorkspaceStore, b: WorkspaceStore): Promise<void> {
  const sa = await a.openSyncSession(b.peerId);
  const sb = await b.openSyncSession(a.peerId);
  for (let i = 0; i < 50; i++) {
    const m1 = sa.generateMessage();
    if (m1) await sb.receiveMessage(m1);
    const m2 = sb.generateMessage();
    if (m2) await sa.receiveMessage(m2);
    if (!m1 && !m2) break;
  }
  await sa.close();
  await sb.close();
}
