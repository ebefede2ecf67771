/**
 * What the runtime tells people about scripts that run on their own: a background script
 * changing state, crashing and coming back, a hot reload taken or refused, a permission
 * revoked under a running script.
 */

export type BackgroundState = "running" | "stopped" | "crashed" | "backoff";

export type BackgroundEvent =
  | { type: "script.state"; script: string; state: BackgroundState; runId: string | null; reason?: string }
  /** main ended with an error (or hit a limit); restartInMs is null when no restart is configured. */
  | { type: "script.crashed"; script: string; runId: string; error: { type: string; message: string; file?: string; line?: number }; restartInMs: number | null }
  | { type: "script.restarted"; script: string; runId: string; restarts: number; reason: "crash" | "reload" | "user" }
  /** A hot reload was taken; the hash is the new source's. */
  | { type: "script.reloaded"; script: string; hash: string; restarted: boolean }
  /** A hot reload was refused: the old version keeps running. */
  | { type: "script.reload_rejected"; script: string; file: string; line: number; column: number; message: string }
  | { type: "script.permission_revoked"; script: string; capability: string; runs: string[]; message: string };
