/**
 * Messages between the main thread and a Lua worker, and the shared-memory slots both read.
 * Values cross with structured clone, which drops classes: LuaFloat travels tagged.
 */
import { LuaFloat } from "./types.ts";
import type { HostValue, RunError, RunProfile, SyntaxProblem } from "./types.ts";
import type { DebugLink } from "./debug-wire.ts";

/** Int32 slots of the control buffer. */
export const SLOT_REPLY = 0; // main sets 1 (and notifies) when a sync reply was posted
export const SLOT_KILL = 1; // 1: stop the run now, uncatchable
export const SLOT_CANCEL = 2; // 1: cancellation requested
/** Float64 slot (index into a Float64Array over the same buffer): current phase deadline, epoch ms, 0 = none. */
export const F64_DEADLINE = 2;
export const CONTROL_BYTES = 32;

/** Milliseconds since the epoch with sub-ms precision, comparable across threads. */
export function epochNow(): number {
  return performance.timeOrigin + performance.now();
}

export interface BindingMeta {
  name: string;
  kind: "sync" | "async" | "event";
  guarded: boolean;
  expose: boolean;
}

export interface RunSpec {
  runId: string;
  chunkName: string;
  source: string;
  globals: Record<string, WireValue>;
  bindings: BindingMeta[];
  workerModules: { path: string; options: WireValue }[];
  preludeLua: string | null;
  seed: number;
  replayTiming: { races: number[] } | null;
  timeoutMs: number;
  memoryBytes: number;
  shutdownTimeoutMs: number;
  /** null: not profiled. */
  profile: { sampleEvery: number; keyByFirstArg: string[] } | null;
  /** null: not debugged. The port is transferred with the message that carries the spec. */
  debug: DebugLink | null;
}

export type ToWorker =
  | { t: "run"; spec: RunSpec; control: SharedArrayBuffer }
  | { t: "check"; id: number; source: string; chunkName: string }
  | { t: "settle"; runId: string; id: number; ok: boolean; value: WireValue; error?: RunError }
  | { t: "wake"; runId: string }; // cancel or kill happened: re-check the control slots

export type PhaseResult =
  | { status: "ok" }
  | { status: "error"; error: RunError }
  | { status: "timeout" }
  | { status: "cancelled" }
  | { status: "killed" };

export type FromWorker =
  | { t: "ready" }
  | { t: "firstLine"; runId: string; at: number }
  | { t: "call"; runId: string; id: number; name: string; args: WireValue[] }
  | { t: "async"; runId: string; id: number; name: string; args: WireValue[] }
  | { t: "event"; runId: string; name: string; args: WireValue[] }
  | { t: "unhandled"; runId: string; id: number; name: string; error: RunError }
  | { t: "skip"; runId: string; name: string; error: RunError }
  | { t: "phase"; runId: string; phase: "shutdown"; main: PhaseResult }
  | { t: "done"; runId: string; main: PhaseResult; shutdown: { ran: boolean; result?: PhaseResult }; profile?: RunProfile }
  | { t: "checked"; id: number; problem: SyntaxProblem | null };

/** Sync reply, posted on the reply port the worker drains with receiveMessageOnPort. */
export interface SyncReply {
  runId: string;
  id: number;
  ok: boolean;
  value: WireValue;
  error?: RunError;
  decision?: "skip" | "abort";
}

/** A HostValue after tagging LuaFloat for structured clone. */
export type WireValue = null | boolean | number | string | WireValue[] | { [k: string]: WireValue };

const FLOAT_TAG = "\u0000luafloat";

export function toWire(v: HostValue): WireValue {
  if (v instanceof LuaFloat) return { [FLOAT_TAG]: v.value };
  if (Array.isArray(v)) return v.map(toWire);
  if (v !== null && typeof v === "object") {
    const out: { [k: string]: WireValue } = {};
    for (const [k, x] of Object.entries(v)) out[k] = toWire(x);
    return out;
  }
  return v;
}

export function fromWire(v: WireValue): HostValue {
  if (Array.isArray(v)) return v.map(fromWire);
  if (v !== null && typeof v === "object") {
    const tagged = v[FLOAT_TAG];
    if (typeof tagged === "number" && Object.keys(v).length === 1) return new LuaFloat(tagged);
    const out: { [k: string]: HostValue } = {};
    for (const [k, x] of Object.entries(v)) out[k] = fromWire(x);
    return out;
  }
  return v;
}

/** Coerces anything a host function returned into a HostValue (undefined → null, Dates → ISO...). */
export function toHostValue(v: unknown, depth = 0): HostValue {
  if (depth > 64) throw new TypeError("value nested deeper than 64 levels");
  if (v === undefined || v === null) return null;
  if (v instanceof LuaFloat) return v;
  switch (typeof v) {
    case "boolean":
    case "number":
    case "string":
      return v;
    case "bigint":
      return Number(v);
    case "object": {
      if (Array.isArray(v)) return v.map((x) => toHostValue(x, depth + 1));
      if (v instanceof Date) return v.toISOString();
      if (v instanceof Uint8Array) return Buffer.from(v).toString("latin1");
      const out: { [k: string]: HostValue } = {};
      for (const [k, x] of Object.entries(v as Record<string, unknown>)) {
        if (x !== undefined && typeof x !== "function") out[k] = toHostValue(x, depth + 1);
      }
      return out;
    }
    default:
      throw new TypeError(`a ${typeof v} value cannot cross to Lua`);
  }
}

/** Turns whatever a binding threw into the error value Lua sees. */
export function toRunError(e: unknown): RunError {
  if (e instanceof Error) {
    const code = (e as Error & { code?: unknown }).code;
    const details = (e as Error & { details?: unknown }).details;
    const out: RunError = { type: typeof code === "string" ? code : "InternalError", message: e.message };
    if (details !== undefined && details !== null && typeof details === "object") {
      try {
        const hv = toHostValue(details);
        if (hv !== null && typeof hv === "object" && !Array.isArray(hv) && !(hv instanceof LuaFloat)) out.details = hv;
      } catch {
        // details that cannot cross are dropped; the message still names the problem
      }
    }
    return out;
  }
  if (e !== null && typeof e === "object" && typeof (e as RunError).type === "string" && typeof (e as RunError).message === "string") {
    return e as RunError;
  }
  return { type: "InternalError", message: String(e) };
}
