/**
 * The script-source store: script and module sources by sha-256 (namespace "script-sources"),
 * so a run record can name a version and a replay find it. It owns the key (the source's
 * content hash, as the caller computed it) and the format (JSON `{ path, source }`).
 */
import type { WorkspaceStore } from "../../crdt/index.ts";

export const SOURCES_NAMESPACE = "script-sources";

export interface StoredSource {
  /** Show-relative path the source was loaded from. */
  path: string;
  source: string;
}

export class ScriptSourceStore {
  constructor(private readonly store: Pick<WorkspaceStore, "records">) {}

  put(hash: string, entry: StoredSource): Promise<void> {
    return this.store.records(SOURCES_NAMESPACE).putJson(hash, entry);
  }

  get(hash: string): Promise<StoredSource | undefined> {
    return this.store.records(SOURCES_NAMESPACE).getJson<StoredSource>(hash);
  }
}
