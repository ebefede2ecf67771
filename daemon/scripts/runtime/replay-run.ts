/**
 * runtime.replay(runId): prepares the recorded inputs (replay.ts), runs the recorded version
 * through the runtime's own run() in a scratch overlay, and compares the ops.
 */
import { EntityNotFound } from "../../crdt/index.ts";
import type { WorkspaceStore } from "../../crdt/index.ts";
import { compareOps, prepareReplay, replaySummary } from "./replay.ts";
import type { ReplayResult, ReplayableRecord } from "./replay.ts";
import type { RunRecord } from "./run-records.ts";
import type { RunOptions, RunStart } from "./run-types.ts";

export interface ReplayDeps {
  store: WorkspaceStore;
  run: (scriptId: string, opts: RunOptions) => RunStart;
  readRecord: (runId: string) => Promise<RunRecord | undefined>;
  /** Where the scratch show directory goes (default: the OS temp folder). */
  tmpRoot?: string;
}

export async function replayRun(deps: ReplayDeps, runId: string): Promise<ReplayResult> {
  const record = (await deps.readRecord(runId)) as (RunRecord & ReplayableRecord) | undefined;
  if (!record) throw new EntityNotFound(`no run record ${runId} (runs.list shows the recorded runs)`, { runId });
  const { input, warnings, cleanup } = await prepareReplay(deps.store, record, deps.tmpRoot);
  try {
    let replayed: unknown[] = [];
    const start = deps.run(record.script, {
      args: (record.args ?? {}) as Record<string, unknown>,
      context: record.context,
      user: record.user,
      mode: "session",
      replay: { ...input, onOps: (ops) => void (replayed = ops) },
    });
    const r = await start.done;
    const own = (await deps.readRecord(start.runId)) as (RunRecord & ReplayableRecord) | undefined;
    const result: Omit<ReplayResult, "summary"> = { runId, replayRunId: start.runId, status: r.status, replayedOps: replayed.length, warnings, ...compareOps(record, replayed) };
    if (own?.inputsRanOut) result.inputsRanOut = own.inputsRanOut;
    return { ...result, summary: replaySummary(result) };
  } finally {
    cleanup();
  }
}
