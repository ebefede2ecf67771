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
  /**
   * What this store last wrote under each hash, once durable. Every run stores its script's
   * source, and a trigger runs the same script thousands of times: writing a record that holds
   * exactly this already was a LevelDB batch per run for nothing. The records are never deleted.
   */
  private readonly written = new Map<string, StoredSource>();

  constructor(private readonly store: Pick<WorkspaceStore, "records">) {}

  async put(hash: string, entry: StoredSource): Promise<void> {
    const last = this.written.get(hash);
    if (last !== undefined && last.path === entry.path && last.source === entry.source) return;
    await this.store.records(SOURCES_NAMESPACE).putJson(hash, entry);
    this.written.set(hash, { path: entry.path, source: entry.source });
  }

  get(hash: string): Promise<StoredSource | undefined> {
    return this.store.records(SOURCES_NAMESPACE).getJson<StoredSource>(hash);
  }
}
