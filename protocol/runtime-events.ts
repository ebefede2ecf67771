/**
 * What the script runtime tells people, as events on the socket: run and
 * session lifecycle, overlay ops streaming, progress, toasts, navigation,
 * background scripts; and the dialogs a script asks.
 */
import type { Operation } from "./operations.ts";
import type { BackgroundState } from "./runs.ts";

/** The run an event or dialog belongs to. */
export interface RunRef {
  runId: string;
  script: string;
}

export interface OverlayOpsEvent extends RunRef {
  sessionId: string;
  ops: Operation[];
  total: number;
  progress: { current: number; total: number | null } | null;
}
export interface SessionOpened extends RunRef {
  sessionId: string;
}
export interface SessionCommitted extends RunRef {
  sessionId: string;
  hash: string | null;
  ops: number;
}
export interface SessionDiscarded extends RunRef {
  sessionId: string;
  ops: number;
}
export interface SessionConflictsFound extends RunRef {
  sessionId: string;
  conflicts: number;
}
export interface RunLog extends RunRef {
  level: "debug" | "info" | "warn" | "error";
  message: string;
}
export interface Toast extends RunRef {
  level: "info" | "warn" | "error";
  message: string;
}
export interface Progress extends RunRef {
  phase: "start" | "update" | "complete";
  label?: string;
  current?: number;
  total?: number | null;
}
export interface Navigate extends RunRef {
  action: "to_view" | "to_entity" | "filter" | "sort";
  target: unknown;
  direction?: string;
}
export type RunStarted = RunRef;
export interface RunFinished extends RunRef {
  status: string;
  ops: number;
  sessionId?: string;
}

export interface ScriptStateChanged {
  script: string;
  state: BackgroundState;
  runId: string | null;
  reason?: string;
}
/** main ended with an error (or hit a limit); restartInMs is null when no restart is configured. */
export interface ScriptCrashed {
  script: string;
  runId: string;
  error: { type: string; message: string; file?: string; line?: number };
  restartInMs: number | null;
}
export interface ScriptRestarted {
  script: string;
  runId: string;
  restarts: number;
  reason: "crash" | "reload" | "user";
}
/** A hot reload was taken; the hash is the new source's. */
export interface ScriptReloaded {
  script: string;
  hash: string;
  restarted: boolean;
}
/** A hot reload was refused: the old version keeps running. */
export interface ScriptReloadRejected {
  script: string;
  file: string;
  line: number;
  column: number;
  message: string;
}
export interface ScriptPermissionRevoked {
  script: string;
  capability: string;
  runs: string[];
  message: string;
}

/** Background scripts' events, by type. */
export type BackgroundEvent =
  | ({ type: "script.state" } & ScriptStateChanged)
  | ({ type: "script.crashed" } & ScriptCrashed)
  | ({ type: "script.restarted" } & ScriptRestarted)
  | ({ type: "script.reloaded" } & ScriptReloaded)
  | ({ type: "script.reload_rejected" } & ScriptReloadRejected)
  | ({ type: "script.permission_revoked" } & ScriptPermissionRevoked);

/** Every event the runtime emits, by type. */
export type RuntimeEvent =
  | ({ type: "overlay.ops" } & OverlayOpsEvent)
  | ({ type: "session.opened" } & SessionOpened)
  | ({ type: "session.committed" } & SessionCommitted)
  | ({ type: "session.discarded" } & SessionDiscarded)
  | ({ type: "session.conflicts" } & SessionConflictsFound)
  | ({ type: "log" } & RunLog)
  | ({ type: "toast" } & Toast)
  | ({ type: "progress" } & Progress)
  | ({ type: "navigate" } & Navigate)
  | ({ type: "run.started" } & RunStarted)
  | ({ type: "run.finished" } & RunFinished)
  | BackgroundEvent;

export type DialogRequest = RunRef &
  (
    | { kind: "confirm"; message: string }
    | { kind: "prompt"; message: string; default?: string }
    | { kind: "select"; message: string; options: string[] }
    /** An unhandled script error under on_error = "prompt": the answer is "skip" or "abort". */
    | { kind: "error"; message: string; error: { type: string; message: string }; options: ["skip", "abort"] }
  );

/** A script asks a person: answer with `dialog.respond {id, answer}` before `expiresAt`. */
export type DialogEvent = DialogRequest & { id: string; timeoutMs: number; expiresAt: number };

/** A dialog stopped waiting: answered (by that client), timed out, or abandoned (nobody left to answer, shutdown). */
export interface DialogClosed {
  id: string;
  runId: string;
  reason: "answered" | "timeout" | "abandoned";
  by?: string;
}
