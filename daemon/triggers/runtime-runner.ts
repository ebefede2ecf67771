/**
 * The TriggerRunner over the real script runtime: a firing becomes a Lua run
 * with the trigger's args, context and mode, whose bundles carry the next
 * link of the causal chain.
 */
import type { RunResult, RunStart, ScriptRuntime } from "../scripts/runtime/index.ts";
import type { TriggerRunner, TriggerRunOutcome, TriggerRunRequest } from "./runner.ts";

export interface RuntimeTriggerRunnerOptions {
  /** Who the run is on behalf of (`context.user()`, run records); default `trigger:<name>`. */
  user?: (req: TriggerRunRequest) => string | undefined;
}

export function createRuntimeTriggerRunner(runtime: Pick<ScriptRuntime, "run" | "discardSession">, opts: RuntimeTriggerRunnerOptions = {}): TriggerRunner {
  const userOf = opts.user ?? ((req: TriggerRunRequest) => `trigger:${req.trigger}`);
  const superseding = new Superseding(runtime);
  return {
    async run(req: TriggerRunRequest, signal: AbortSignal): Promise<TriggerRunOutcome> {
      const start = runtime.run(req.script, {
        args: req.args,
        context: req.context,
        user: userOf(req),
        mode: req.mode,
        // The run is one link further down the chain than the change that fired it.
        chain: { ...req.chain, depth: req.chain.depth + 1 },
      });
      const reason = `trigger ${req.trigger} fired again for ${req.context.trigger_entity} (concurrency = "restart")`;
      const onAbort = (): void => start.cancel(reason);
      if (signal.aborted) onAbort();
      else signal.addEventListener("abort", onAbort, { once: true });
      const earlier = req.supersede !== undefined ? superseding.began(req.supersede, start, `trigger ${req.trigger} fired again for the same scope entity (supersede = true)`) : null;
      try {
        const r = await start.done;
        if (earlier) await earlier(r);
        return outcomeOf(r);
      } finally {
        signal.removeEventListener("abort", onAbort);
      }
    },
  };
}

/**
 * `supersede = true`: per trigger and scope entity, the runs whose sessions may still be open.
 * A new run cancels the earlier ones still going; once it ends ok, the sessions they left open
 * are discarded, so one session (the newest) waits for review instead of several that
 * conflict with each other on commit.
 */
class Superseding {
  private readonly byKey = new Map<string, RunStart[]>();

  constructor(private readonly runtime: Pick<ScriptRuntime, "discardSession">) {}

  /** Returns what to do when the new run ended. */
  began(key: string, start: RunStart, reason: string): (r: RunResult) => Promise<void> {
    const earlier = this.byKey.get(key) ?? [];
    for (const e of earlier) e.cancel(reason);
    this.byKey.set(key, [...earlier, start]);
    return async (r) => {
      if (r.status !== "ok") return;
      for (const e of earlier) {
        const done = await e.done;
        if (done.sessionId !== undefined && done.sessionStatus === "open") {
          // A person may have committed or discarded it meanwhile: then there is nothing to replace.
          await this.runtime.discardSession(done.sessionId).catch(() => undefined);
        }
      }
      const list = this.byKey.get(key) ?? [];
      const rest = list.filter((s) => !earlier.includes(s));
      if (rest.length) this.byKey.set(key, rest);
      else this.byKey.delete(key);
    };
  }
}

/** The runtime's words for how a run ended, in the trigger traces' words (`error` is `failed`). */
function outcomeOf(r: RunResult): TriggerRunOutcome {
  const out: TriggerRunOutcome = { runId: r.runId, status: r.status === "error" ? "failed" : r.status };
  if (r.error !== undefined) out.error = { type: r.error.type, message: located(r.error) };
  // A cancelled run is not an error: the trace's reason says what replaced it.
  else if (r.status !== "ok" && r.status !== "cancelled") out.error = { type: r.status === "timeout" ? "Timeout" : "InvalidOperation", message: `run ${r.runId} of ${r.script} ended: ${r.status}` };
  return out;
}

/** The message with the script line it came from, so a trace alone says where to look. */
function located(e: NonNullable<RunResult["error"]>): string {
  if (e.file === undefined || e.line === undefined || e.message.startsWith(e.file)) return e.message;
  return `${e.file}:${e.line}: ${e.message}`;
}
