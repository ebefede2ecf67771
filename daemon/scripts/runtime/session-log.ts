/**
 * The session log: where open sessions live in the store's side records (namespace "sessions"),
 * so they survive a restart. It owns the keys and the format: a session's header under its id
 * (JSON SessionMeta), and its ops in batches under `<id>/ops/<10-digit seq>` (JSON Operation[]),
 * in the order they were made.
 */
import type { Heads, Operation, RecordWrite, WorkspaceStore } from "../../crdt/index.ts";
import type { Isolation } from "./script-config.ts";

export const SESSIONS_NAMESPACE = "sessions";

export interface SessionMeta {
  id: string;
  scriptId: string;
  runId: string;
  /** sha-256 of the script source. */
  hash: string;
  chain?: unknown;
  isolation: Isolation;
  /** Canonical heads when the session opened: snapshot reads and conflict detection start here. */
  heads: Heads;
  startHlc: string;
  user?: string;
  /** Choices made by a person for commit conflicts, by conflict id. */
  resolutions: Record<string, "script" | "canonical">;
  /** Origin metadata its bundle carries beyond script, hash and run (module, external inputs): set when its run ends. */
  origin?: Record<string, unknown>;
}

/** A session as the log holds it: its header and its op batches, oldest first. */
export interface LoggedSession {
  meta: SessionMeta;
  batches: Operation[][];
}

export class SessionLog {
  constructor(private readonly store: Pick<WorkspaceStore, "records">) {}

  /** Writes (or rewrites) a session's header. */
  writeMeta(meta: SessionMeta): Promise<void> {
    return this.space().putJson(meta.id, meta);
  }

  /** Appends the session's batch number `seq` (1, 2, ...). */
  appendOps(sessionId: string, seq: number, ops: readonly Operation[]): Promise<void> {
    return this.space().putJson(`${sessionId}/ops/${String(seq).padStart(10, "0")}`, ops);
  }

  /** Every session in the log, each with its batches in the order they were written. */
  async readAll(): Promise<LoggedSession[]> {
    const metas = new Map<string, SessionMeta>();
    const batches = new Map<string, [string, Operation[]][]>();
    for await (const [key, bytes] of this.space().list()) {
      const text = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("utf8");
      const slash = key.indexOf("/");
      if (slash < 0) metas.set(key, JSON.parse(text) as SessionMeta);
      else {
        const id = key.slice(0, slash);
        let list = batches.get(id);
        if (!list) batches.set(id, (list = []));
        list.push([key, JSON.parse(text) as Operation[]]);
      }
    }
    return [...metas.values()].map((meta) => ({
      meta,
      batches: (batches.get(meta.id) ?? []).sort((a, b) => (a[0] < b[0] ? -1 : 1)).map(([, ops]) => ops),
    }));
  }

  /** Deletions of every record of the session, for one atomic write (with its bundle, at commit). */
  async removal(sessionId: string): Promise<RecordWrite[]> {
    const keys: string[] = [];
    for await (const [k] of this.space().list(sessionId)) if (k === sessionId || k.startsWith(sessionId + "/")) keys.push(k);
    return keys.map((key) => ({ namespace: SESSIONS_NAMESPACE, key, value: null }));
  }

  private space(): ReturnType<WorkspaceStore["records"]> {
    return this.store.records(SESSIONS_NAMESPACE);
  }
}
