/**
 * The runtime's two seams towards people: events it emits (overlay ops streaming, progress,
 * toasts, navigation, logs, session and run lifecycle) and dialogs it asks and waits on.
 */
import type { Operation } from "../../crdt/index.ts";
import type { BackgroundEvent } from "./background-events.ts";

interface RunRef {
  runId: string;
  script: string;
}

export type RuntimeEvent =
  | ({ type: "overlay.ops"; sessionId: string; ops: Operation[]; total: number; progress: { current: number; total: number | null } | null } & RunRef)
  | ({ type: "session.opened"; sessionId: string } & RunRef)
  | ({ type: "session.committed"; sessionId: string; hash: string | null; ops: number } & RunRef)
  | ({ type: "session.discarded"; sessionId: string; ops: number } & RunRef)
  | ({ type: "session.conflicts"; sessionId: string; conflicts: number } & RunRef)
  | ({ type: "log"; level: "debug" | "info" | "warn" | "error"; message: string } & RunRef)
  | ({ type: "toast"; level: "info" | "warn" | "error"; message: string } & RunRef)
  | ({ type: "progress"; phase: "start" | "update" | "complete"; label?: string; current?: number; total?: number | null } & RunRef)
  | ({ type: "navigate"; action: "to_view" | "to_entity" | "filter" | "sort"; target: unknown; direction?: string } & RunRef)
  | ({ type: "run.started" } & RunRef)
  | ({ type: "run.finished"; status: string; ops: number; sessionId?: string } & RunRef)
  | BackgroundEvent;

export interface RuntimeEvents {
  emit(event: RuntimeEvent): void;
}

export type DialogRequest = RunRef &
  (
    | { kind: "confirm"; message: string }
    | { kind: "prompt"; message: string; default?: string }
    | { kind: "select"; message: string; options: string[] }
    /** An unhandled script error under on_error = "prompt": the answer is "skip" or "abort". */
    | { kind: "error"; message: string; error: { type: string; message: string }; options: ["skip", "abort"] }
  );

/** A person answers; the promise settles with what they chose (null when dismissed). */
export interface Dialogs {
  ask(request: DialogRequest): Promise<unknown>;
}
