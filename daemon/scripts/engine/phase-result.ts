/**
 * What a phase (main or on_shutdown) came to, from the table sandbox.lua's run_phase returned
 * (or Lua's message when the coroutine itself failed) and the run's control slots.
 */
import { withCapabilityHint } from "./capability-hint.ts";
import type { PhaseTable } from "./lua-vm.ts";
import type { PhaseResult } from "./wire.ts";

export interface PhaseState {
  /** The kill flag was set. */
  killed: boolean;
  /** Past the deadline (or killed) now. */
  fatal: () => boolean;
  /** Cancellation was requested during the main phase. */
  cancelled: boolean;
  memoryBytes: number;
}

export function toPhaseResult(t: PhaseTable | { status: "crash"; message: string }, st: PhaseState): PhaseResult {
  if (st.killed) return { status: "killed" };
  if (t.status === "fatal") return { status: "timeout" };
  if (t.status === "ok") return st.cancelled ? { status: "cancelled" } : { status: "ok" };
  if (t.status === "crash") {
    if (st.fatal()) return { status: "timeout" };
    const mem = /not enough memory/.test(t.message);
    return { status: "error", error: { type: mem ? "MemoryLimit" : "ScriptError", message: mem ? `${t.message} (limit ${st.memoryBytes} bytes)` : withCapabilityHint(t.message) } };
  }
  const { status: _s, ...error } = t;
  if (error.type === "ScriptError") {
    const m = /^(.*?):(\d+): ([\s\S]*)$/.exec(error.message);
    if (m && (error.file === undefined || m[1] === error.file)) {
      error.file = m[1];
      error.line = Number(m[2]);
      error.message = m[3];
    }
    error.message = withCapabilityHint(error.message);
    if (/not enough memory/.test(error.message)) {
      error.type = "MemoryLimit";
      error.message = `${error.message} (limit ${st.memoryBytes} bytes)`;
    }
  }
  if (error.details && Array.isArray(error.details)) error.details = {};
  return { status: "error", error };
}
