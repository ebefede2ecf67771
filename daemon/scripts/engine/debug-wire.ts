/**
 * Messages between a debugged run's worker (the debug agent, blocked in the Lua hook while
 * paused) and the debugger on the main thread, and the shared slots both read. The port and
 * the signal buffer travel with the run (RunRequest.debug); nothing of it exists for other runs.
 */
import type { MessagePort } from "node:worker_threads";
import type { HostValue } from "./host-value.ts";

/** Int32 slots of the debug signal buffer. */
export const DBG_WAKE = 0; // main sets 1 (and notifies) after posting a command: a paused worker reads it
export const DBG_PAUSE = 1; // 1: stop at the next chance (pause request)
export const DBG_PENDING = 2; // 1: commands are queued: a running worker reads them at its next count hook
export const DEBUG_SIGNAL_BYTES = 16;

/** Posts a command to the worker and wakes it wherever it waits (paused, or running Lua). */
export function signalAgent(signal: Int32Array): void {
  Atomics.store(signal, DBG_PENDING, 1);
  Atomics.store(signal, DBG_WAKE, 1);
  Atomics.notify(signal, DBG_WAKE);
}

/** What the engine needs to debug a run: the worker's end of a channel and the signal buffer. */
export interface DebugLink {
  port: MessagePort;
  signal: SharedArrayBuffer;
}

export interface LineBreakpoint {
  line: number;
  condition?: string;
  hitCondition?: string;
  logMessage?: string;
}

export type StepKind = "next" | "in" | "out";

/** Main thread → agent. Requests with an `id` get one `reply`. */
export type ToAgent =
  | { t: "setBreakpoints"; id: number; source: string; breakpoints: LineBreakpoint[] }
  | { t: "exceptions"; id: number; caught: boolean; uncaught: boolean }
  | { t: "start"; id: number }
  | { t: "continue"; id: number }
  | { t: "step"; id: number; kind: StepKind; threadId: number }
  | { t: "pause"; id: number }
  | { t: "threads"; id: number }
  | { t: "stack"; id: number; threadId: number }
  | { t: "scopes"; id: number; frameId: number }
  | { t: "variables"; id: number; ref: number; start: number; count: number }
  | { t: "evaluate"; id: number; frameId: number | null; expression: string; writable: boolean }
  | { t: "setVariable"; id: number; ref: number; name: string; value: string };

export type AgentRequest = ToAgent["t"];

/** One variable as the agent describes it; `ref` > 0: a table the client may expand. */
export interface AgentVariable {
  name: string;
  value: string;
  type: string;
  ref: number;
  count: number;
}

export interface AgentFrame {
  id: number;
  name: string;
  /** The chunk's source: "=<chunk name>" for the script, "@<show path>" for a required module. */
  source: string;
  line: number;
}

export interface AgentScopes {
  locals: number;
  upvalues: number;
  globals: number;
  args: number;
}

export type StopReason = "breakpoint" | "step" | "pause" | "exception" | "entry";

/** Agent → main thread. */
export type FromAgent =
  | { t: "reply"; id: number; ok: true; body: HostValue }
  | { t: "reply"; id: number; ok: false; message: string }
  | { t: "stopped"; reason: StopReason; threadId: number; description?: string; text?: string; breakpointIds?: number[] }
  | { t: "continued"; threadId: number }
  | { t: "output"; text: string; source?: string; line?: number };
