/**
 * Run records: what a run was given and what it did, kept in the store's database
 * (namespace "runs", one JSON record per run id) so a run can be audited and replayed against
 * its snapshot. RunRecordStore owns those keys and that format.
 */
import type { WorkspaceStore } from "../../crdt/index.ts";
import type { RecordedTape, TapeRanOut } from "./input-tape.ts";
import type { ScriptConfig } from "./script-config.ts";
import type { RunRecord } from "../../../protocol/index.ts";
// The wire's own words (protocol/): the daemon keeps no second copy of them.
export type { RunRecord };

export const RUNS_NAMESPACE = "runs";

export interface RunSkip {
  binding: string;
  error: { type: string; message: string; line?: number; file?: string };
}

/** What a run record holds beyond RunRecord's own fields, for replay (see replay.ts). */
export interface ReplayableRecord {
  /** sha-256 of the script's own source (`hash` covers it and every module it required). */
  scriptHash?: string;
  /** Show-relative path of the script (where require() resolves from). */
  scriptPath?: string;
  /** Module files the run required: show-relative path → sha-256. */
  modules?: Record<string, string>;
  /** The capabilities the run was granted (null: an ungated run). */
  capabilities?: string[] | null;
  /** The ops the run made, ids it created written as `#1`, `#2`... (see normalizeOps). */
  opList?: unknown[] | null;
  opsDigest?: string;
  opsCount?: number;
  /** Per op of opList: how many tape entries had been consumed before it was made. */
  opInputs?: number[] | null;
  /** Every answer from outside the snapshot, in call order (see input-tape.ts). */
  tape?: RecordedTape;
  /** Set on the record of a replay that wanted more inputs than were recorded. */
  inputsRanOut?: TapeRanOut;
  /** The settings the run went by (on_error, isolation, limits). */
  scriptConfig?: Pick<ScriptConfig, "onError" | "isolation" | "timeoutMs" | "memoryBytes">;
  /** Set on the record of a replay: the run it replayed. */
  replayOf?: string;
}

/** The workspace's run records, by run id. */
export class RunRecordStore {
  constructor(private readonly store: Pick<WorkspaceStore, "records">) {}

  write(record: RunRecord): Promise<void> {
    return this.store.records(RUNS_NAMESPACE).putJson(record.runId, record);
  }

  read(runId: string): Promise<RunRecord | undefined> {
    return this.store.records(RUNS_NAMESPACE).getJson<RunRecord>(runId);
  }

  /** Every record, in run id order. */
  async *list(): AsyncIterable<RunRecord> {
    for await (const [, bytes] of this.store.records(RUNS_NAMESPACE).list()) {
      yield JSON.parse(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("utf8")) as RunRecord;
    }
  }
}
