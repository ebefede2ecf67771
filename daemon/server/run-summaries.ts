/**
 * Runs on the wire: a run's outcome as `scripts.run` / `runs.wait` answer it
 * (from its live result or its stored record), the runs started through the
 * socket until they end, and a run record looked up by id.
 */
import { nameIdsIn } from "./entity-naming.ts";
import type { NameOf } from "./entity-naming.ts";
import { EntityNotFound } from "../crdt/vocabulary.ts";
import type { RunRecord, RunResult, ScriptRuntime } from "../scripts/runtime/index.ts";
import type { RunSummary } from "../../protocol/index.ts";

/** Finished runs kept in memory for `runs.wait` (older ones are answered from their run record). */
const RECENT_RUNS = 200;

export class RunTracker {
  private readonly runs = new Map<string, Promise<RunSummary>>();

  add(runId: string, done: Promise<RunSummary>): void {
    this.runs.set(runId, done);
    done.catch(() => undefined);
    while (this.runs.size > RECENT_RUNS) {
      const oldest = this.runs.keys().next().value;
      if (oldest === undefined) break;
      this.runs.delete(oldest);
    }
  }

  get(runId: string): Promise<RunSummary> | undefined {
    return this.runs.get(runId);
  }

  async settled(ms: number): Promise<void> {
    await Promise.race([Promise.allSettled([...this.runs.values()]), new Promise((r) => setTimeout(r, ms).unref())]);
  }
}

/** A run's outcome on the wire, from its live result or its stored record (same fields). */
export function summarize(r: RunResult | RunRecord, nameOf: NameOf): RunSummary {
  const s: RunSummary = {
    runId: r.runId,
    script: r.script,
    status: r.status,
    sessionId: r.sessionId ?? null,
    sessionStatus: r.sessionStatus ?? null,
    ops: r.ops,
    bundles: r.bundles,
    skips: r.skips.map((k) => ({ binding: k.binding, error: { type: k.error.type, message: nameIdsIn(k.error.message, nameOf) } })),
  };
  if (r.error) s.error = { type: r.error.type, message: nameIdsIn(r.error.message, nameOf), file: r.error.file, line: r.error.line };
  return s;
}

export async function recordOf(rt: ScriptRuntime, runId: string): Promise<RunRecord> {
  const r = await rt.runRecord(runId);
  if (!r) {
    const going = rt.running().some((x) => x.runId === runId);
    throw new EntityNotFound(
      going ? `run ${runId} is still going: its record is written when it ends (runs.wait waits for it)` : `no run ${runId} (\`openprod runs\` lists the recorded runs)`,
      { runId, running: going },
    );
  }
  return r;
}
