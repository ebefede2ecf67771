/**
 * Methods of the scripts and triggers services, added to `Methods` by
 * declaration merging: running scripts, their sessions (review, commit,
 * discard, conflicts), run records, triggers and their traces, dialogs,
 * capability revocation and background scripts.
 */
import type { FieldValue } from "./values.ts";
import type { Operation } from "./operations.ts";
import type { BackgroundInfo, ReplayResult, RunRecord } from "./runs.ts";
import type { SessionConflict } from "./sessions.ts";
import type { TriggerSummary, TriggerTrace } from "./triggers.ts";
import type { DialogEvent } from "./runtime-events.ts";
import type { ScriptArgSpec } from "./script-args.ts";

export interface ScriptInfo {
  /** `renumber_cues` (user script) or `lighting/osc_listener` (module script). */
  id: string;
  file: string;
  module: string | null;
  /** Has a `[script.*]` section (else it runs with defaults and no capabilities). */
  configured: boolean;
  /** `description` of its `[script.*]` section: what it does, for people; "" when not written or not loadable. */
  description: string;
  /** session | autoCommit. */
  executionMode?: string;
  /** manual | background. */
  mode?: string;
  onError?: string;
  isolation?: string;
  capabilities: string[];
  /** Declared arguments (`[script.<name>.args]`): name, type, help, required, default. */
  args?: ScriptArgSpec[];
  /** sha-256 of the source. */
  hash?: string;
  /** Why it cannot be loaded (missing file, bad section). */
  error?: string;
}

/** How a session commit ended: one bundle, or the conflicts a person must resolve first. */
export type CommitResult =
  | { status: "committed"; hash: string | null; ops: number }
  | { status: "conflicts"; conflicts: SessionConflict[]; bulk: boolean };

export interface RunSummary {
  runId: string;
  script: string;
  /** ok | error | timeout | cancelled | killed. */
  status: string;
  /** The run's session (null for autoCommit runs or when it made no ops). */
  sessionId: string | null;
  sessionStatus: "open" | "committed" | "discarded" | null;
  ops: number;
  bundles: number;
  error?: { type: string; message: string; file?: string; line?: number; column?: number };
  skips: { binding: string; error: { type: string; message: string } }[];
  /** With `commit: true`: what committing the session did. */
  commit?: CommitResult;
}

export interface RunListEntry {
  runId: string;
  script: string;
  status: string;
  startedAt: number | null;
  endedAt: number | null;
  ops: number;
  sessionId: string | null;
  user?: string;
}

/** One operation of a session as a person reads it: entity, field, old → new. */
export interface SessionChange {
  op: Operation["op"];
  entity: string | null;
  field: string | null;
  /** Canonical value now (null when the entity is new or the field unset). */
  old: FieldValue;
  new: FieldValue;
  /** Other ops (tables, edges, creation) in words. */
  summary: string;
  /** The entity's display name (for an entity the session creates: from the values it ends the session with). */
  name?: string;
  /** SetField writing the value the field already holds: nothing would change. */
  noop?: boolean;
  /** CreateEntity: the values the new entity has once the session is committed (its creation fields and later writes). */
  values?: Record<string, FieldValue>;
}

export interface SessionInfo {
  id: string;
  script: string;
  runId: string;
  isolation: string;
  ops: number;
  conflicts: number;
}

declare module "./methods.ts" {
  interface Methods {
    "scripts.list": { params: Record<string, never>; result: { scripts: ScriptInfo[] } };
    /**
     * Runs a script. By default waits until the run ends; `wait: false` returns `{runId}` at once
     * (then `runs.wait`). `commit: true` commits the run's session when it ends without conflicts.
     */
    "scripts.run": {
      /** `profile`: record where the run's time went (kept in its run record; default: the script's setting). */
      params: { script: string; args?: Record<string, unknown>; commit?: boolean; wait?: boolean; user?: string; profile?: boolean };
      result: RunSummary | { runId: string; script: string; status: "running" };
    };
    "runs.wait": { params: { runId: string }; result: RunSummary };
    /**
     * Stops every running run of `target` (a run id, or a script id: all its runs), one-shot,
     * trigger or background, and answers once they ended. A session run's overlay is discarded
     * unless `keepOverlay`; autoCommit bundles already written stay; on_shutdown runs.
     */
    "runs.cancel": { params: { target: string; keepOverlay?: boolean }; result: { cancelled: (RunSummary & { kind: "one-shot" | "background" })[] } };
    "runs.list": { params: { limit?: number; script?: string }; result: { runs: RunListEntry[] } };
    "runs.get": { params: { runId: string }; result: { record: RunRecord } };
    /** Re-run a recorded run (its script version, heads, seed and inputs) in a scratch overlay; says whether the ops match. */
    "runs.replay": { params: { runId: string }; result: ReplayResult };
    "sessions.list": { params: Record<string, never>; result: { sessions: SessionInfo[] } };
    "sessions.get": { params: { id: string }; result: SessionInfo & { changes: SessionChange[] } };
    "sessions.commit": { params: { id: string }; result: CommitResult };
    "sessions.discard": { params: { id: string }; result: { id: string; status: "discarded" } };
    /** The conflicts the last commit attempt found (commit first to refresh them). */
    "sessions.conflicts": { params: { id: string }; result: { id: string; conflicts: SessionConflict[] } };
    "sessions.resolve": { params: { id: string; conflictId: string; choice: "script" | "canonical" }; result: { id: string; conflictId: string; choice: string } };
    "sessions.resolveBulk": { params: { id: string; choice: "script" | "canonical" }; result: { id: string; resolved: number } };
    "triggers.list": { params: Record<string, never>; result: { triggers: TriggerSummary[] } };
    "triggers.traces": { params: { trigger: string; limit?: number }; result: { trigger: string; traces: TriggerTrace[] } };
    "dialog.respond": { params: { id: string; answer: FieldValue }; result: { id: string; runId: string } };
    "dialog.list": { params: Record<string, never>; result: { dialogs: DialogEvent[] } };
    "capabilities.revoke": { params: { script: string; capability: string }; result: { script: string; capability: string; runs: string[] } };
    "scripts.start": { params: { script: string; args?: Record<string, unknown> }; result: BackgroundInfo };
    "scripts.stop": { params: { script: string }; result: BackgroundInfo };
    "scripts.restart": { params: { script: string }; result: BackgroundInfo };
    "scripts.ps": { params: Record<string, never>; result: { scripts: BackgroundInfo[] } };
  }
}
