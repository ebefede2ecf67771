/**
 * Events of the scripts and triggers services, added to `EventMap` by
 * declaration merging: run lifecycle, session overlays streaming, a script's
 * progress, toasts, navigation, dialogs, trigger firings and background
 * scripts. Their fields are the runtime's own (daemon/scripts/runtime/events.ts).
 */
import type { DialogRequest, RuntimeEvent } from "../daemon/scripts/runtime/index.ts";
import type { TriggerEvent } from "../daemon/triggers/index.ts";

type Fields<U, K> = Omit<Extract<U, { type: K }>, "type">;
type Runtime<K extends RuntimeEvent["type"]> = Fields<RuntimeEvent, K>;

/** A script asks a person: answer with `dialog.respond {id, answer}` before `expiresAt`. */
export type DialogEvent = DialogRequest & { id: string; timeoutMs: number; expiresAt: number };

/** A dialog stopped waiting: answered (by that client), timed out, or abandoned (nobody left to answer, shutdown). */
export interface DialogClosed {
  id: string;
  runId: string;
  reason: "answered" | "timeout" | "abandoned";
  by?: string;
}

/** A trigger fired and its script is starting. */
export interface TriggerFired {
  trigger: string;
  script: string;
  entity: string;
  field: string;
  oldValue: unknown;
  newValue: unknown;
  args: Record<string, unknown>;
  chain: { id: string; depth: number; startedAt: number };
}

declare module "./events.ts" {
  interface EventMap {
    "run.started": Runtime<"run.started">;
    "run.finished": Runtime<"run.finished">;
    "overlay.ops": Runtime<"overlay.ops">;
    "session.opened": Runtime<"session.opened">;
    "session.committed": Runtime<"session.committed">;
    "session.discarded": Runtime<"session.discarded">;
    "session.conflicts": Runtime<"session.conflicts">;
    progress: Runtime<"progress">;
    toast: Runtime<"toast">;
    navigate: Runtime<"navigate">;
    "script.state": Runtime<"script.state">;
    "script.crashed": Runtime<"script.crashed">;
    "script.restarted": Runtime<"script.restarted">;
    "script.reloaded": Runtime<"script.reloaded">;
    "script.reload_rejected": Runtime<"script.reload_rejected">;
    "script.permission_revoked": Runtime<"script.permission_revoked">;
    "dialog.request": DialogEvent;
    "dialog.closed": DialogClosed;
    "trigger.fired": TriggerFired;
    "trigger.run_failed": Fields<TriggerEvent, "trigger.run_failed">;
    "trigger.chain_stopped": Fields<TriggerEvent, "trigger.chain_stopped">;
  }
}

/** Every event type the scripts and triggers services publish. */
export const SCRIPT_EVENT_TYPES = [
  "run.started",
  "run.finished",
  "overlay.ops",
  "session.opened",
  "session.committed",
  "session.discarded",
  "session.conflicts",
  "progress",
  "toast",
  "navigate",
  "script.state",
  "script.crashed",
  "script.restarted",
  "script.reloaded",
  "script.reload_rejected",
  "script.permission_revoked",
  "dialog.request",
  "dialog.closed",
  "trigger.fired",
  "trigger.run_failed",
  "trigger.chain_stopped",
] as const;
