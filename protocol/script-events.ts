/**
 * Events of the scripts and triggers services, added to `EventMap` by
 * declaration merging: run lifecycle, session overlays streaming, a script's
 * progress, toasts, navigation, dialogs, trigger firings and background
 * scripts. Their fields are described in runtime-events.ts and triggers.ts.
 */
import type { DialogClosed, DialogEvent, RuntimeEvent } from "./runtime-events.ts";
import type { TriggerChainStopped, TriggerFired, TriggerRunFailed } from "./triggers.ts";

export type { DialogClosed, DialogEvent, TriggerFired };

type Runtime<K extends RuntimeEvent["type"]> = Omit<Extract<RuntimeEvent, { type: K }>, "type">;

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
    "trigger.run_failed": TriggerRunFailed;
    "trigger.chain_stopped": TriggerChainStopped;
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
