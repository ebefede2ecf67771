/**
 * Run records: what a run was given and what it did, kept in the store's database
 * (namespace "runs", one JSON record per run id) so a run can be audited and replayed against
 * its snapshot. RunRecordStore owns those keys and that format.
 */
import type { WorkspaceStore } from "../../crdt/index.ts";
import type { RunRecord, RunSkip } from "../../../protocol/index.ts";
// The wire's own words (protocol/): the daemon keeps no second copy of them.
export type { RunRecord, RunSkip };

/** What a run record holds for replay (see replay.ts): the fields of RunRecord only a replay reads. */
export type ReplayableRecord = Pick<
  RunRecord,
  "scriptHash" | "scriptPath" | "modules" | "capabilities" | "opList" | "opsDigest" | "opsCount" | "opInputs" | "tape" | "inputsRanOut" | "scriptConfig" | "replayOf"
>;

export const RUNS_NAMESPACE = "runs";

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
