/**
 * Script runs as clients see them: the run record (what a run was given and
 * did, for audit and replay), its profile, a replay's verdict, and the state of
 * background scripts.
 */

export interface RunSkip {
  binding: string;
  error: { type: string; message: string; line?: number; file?: string };
}

export interface RunLogLine {
  level: string;
  message: string;
}

/** One answer from outside the snapshot, in call order. */
export interface TapeEntry {
  /** The host binding (`osc.__recv`, `http.get`, `fs.read`, `rt.context.hlc_time`) or `core.race` / `core.sleep`. */
  b: string;
  /** What it answered (LuaFloat as `{"$float": x}`); absent while pending. */
  v?: unknown;
  /** The error it raised. */
  e?: { type: string; message: string; details?: Record<string, unknown> };
  /** The call had not been answered when the run ended. */
  pending?: true;
  /** The answer was too large to keep: its JSON size and sha-256. */
  omitted?: { bytes: number; sha256: string };
}

export interface RecordedTape {
  entries: TapeEntry[];
  /** Entries the run made, kept or not. */
  total: number;
}

/** Where a replay wanted an input the recording does not have. */
export interface TapeRanOut {
  binding: string;
  /** 1-based: the n-th call of that binding. */
  call: number;
  /** Calls of it the recording holds. */
  recorded: number;
  /** Whole recording was kept (false: the record kept only the first entries). */
  complete: boolean;
}

export interface ProfileFrame {
  kind: "lua" | "host" | "await";
  name: string;
  /** The chunk ("hot.lua", "[C]"); "" for host calls and awaits. */
  file: string;
  /** Where the function is defined (0: a main chunk or a C function). */
  line: number;
}

/** Where a run's time went (sampled Lua time, timed host calls and awaits). Stacks list frame indices outermost first. */
export interface ScriptProfile {
  sampleEvery: number;
  samples: number;
  /** Time Lua ran (coroutine resumes), host calls excluded. */
  luaMs: number;
  /** Time Lua was blocked in host calls. */
  hostMs: number;
  /** Time the run waited in core.await. */
  awaitMs: number;
  frames: ProfileFrame[];
  stacks: { frames: number[]; ms: number; count: number }[];
  /** Lua time by line: the innermost Lua frame with a line, and that line. */
  lines: { frame: number; line: number; ms: number; samples: number }[];
  /** By binding (and key: a query's text), slowest first. */
  hostCalls: { name: string; key: string | null; count: number; ms: number }[];
  /** By what was awaited (a binding's name, "sleep", "race(...)"), longest first. */
  awaits: { what: string; count: number; ms: number }[];
  /** Operations the run emitted (into overlays or bundles). */
  ops: number;
  /** The run from its first instruction to its end. */
  wallMs: number;
}

export interface RunRecord {
  runId: string;
  script: string;
  /** sha-256 of the script source and every module it required. */
  hash: string | null;
  mode: "session" | "autoCommit";
  args: unknown;
  context: Record<string, unknown>;
  user?: string;
  chain?: unknown;
  /** Canonical heads when the run started (its snapshot). */
  heads: string[];
  /** math.random seed. */
  seed: number;
  startedAt: number;
  endedAt: number;
  status: string;
  ops: number;
  bundles: number;
  skips: RunSkip[];
  error?: { type: string; message: string; file?: string; line?: number; column?: number };
  sessionId?: string;
  sessionStatus?: "open" | "committed" | "discarded";
  /** External inputs the run read (dialog answers...). */
  inputs: { kind: string; value: unknown }[];
  log: RunLogLine[];
  /** Where the time went, for a run recorded with profiling on. */
  profile?: ScriptProfile;
  /** sha-256 of the script's own source. */
  scriptHash?: string;
  /** Show-relative path of the script (where require() resolves from). */
  scriptPath?: string;
  /** Module files the run required: show-relative path → sha-256. */
  modules?: Record<string, string>;
  /** The capabilities the run was granted (null: an ungated run). */
  capabilities?: string[] | null;
  /** The ops the run made, ids it created written as `#1`, `#2`... */
  opList?: unknown[] | null;
  opsDigest?: string;
  opsCount?: number;
  /** Per op of opList: how many tape entries had been consumed before it was made. */
  opInputs?: number[] | null;
  /** Every answer from outside the snapshot, in call order. */
  tape?: RecordedTape;
  /** Set on the record of a replay that wanted more inputs than were recorded. */
  inputsRanOut?: TapeRanOut;
  /** The settings the run went by. */
  scriptConfig?: { onError: "skip" | "abort" | "prompt"; isolation: "snapshot" | "live"; timeoutMs: number; memoryBytes: number };
  /** Set on the record of a replay: the run it replayed. */
  replayOf?: string;
}

export interface ReplayResult {
  runId: string;
  replayRunId: string;
  /** Same ops, in the same order, as the recorded run. */
  same: boolean;
  recordedOps: number;
  replayedOps: number;
  status: string;
  /** Where the two first part, and the recorded input consumed just before the recorded op (null: none yet). */
  firstDifference?: { index: number; recorded: unknown; replayed: unknown; precedingInput: string | null };
  /** The replay wanted an input the recording does not have (it did no live I/O instead). */
  inputsRanOut?: TapeRanOut;
  /** Why a replay could not be faithful (an input not kept in full), if any. */
  warnings: string[];
  /** The outcome in words: matched, or the first differing op and the input before it. */
  summary: string;
}

export type BackgroundState = "running" | "stopped" | "crashed" | "backoff";

/** One line of `ps` for background scripts. */
export interface BackgroundInfo {
  id: string;
  state: BackgroundState;
  /** The run going now (running), or the last one. */
  runId: string | null;
  /** When the script entered this state (the runtime's clock, ms). */
  since: number;
  restarts: number;
  lastError: { type: string; message: string; file?: string; line?: number } | null;
  /** In backoff: when the next start is due. */
  nextStartAt?: number;
}
