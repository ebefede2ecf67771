/**
 * A trigger as loaded from `[trigger.<name>]`: every name resolved against
 * the schema, `when` parsed, params classified, so firing does no parsing.
 */
import type { ParsedCondition } from "../crdt/query/index.ts";
import type { FieldDef } from "../crdt/vocabulary.ts";

export const CONCURRENCY_MODES = ["single", "restart", "queued", "parallel"] as const;
/** What happens when the trigger fires again for an entity whose previous run has not ended. */
export type Concurrency = (typeof CONCURRENCY_MODES)[number];

export const RUN_MODES = ["session", "autoCommit"] as const;
export type RunMode = (typeof RUN_MODES)[number];

/** A `params` value: a literal, or one of the trigger references resolved at firing time. */
export type ParamSource =
  | { kind: "literal"; value: unknown }
  | { kind: "source" }
  | { kind: "source_field"; field: FieldDef }
  | { kind: "scope_entity_id" }
  | { kind: "old_value" }
  | { kind: "new_value" };

export interface TriggerDef {
  /** `renumber_on_reorder`; a module's triggers are `<module>/<name>`. */
  name: string;
  file: string;
  line: number | undefined;
  /** The watched field. */
  field: FieldDef;
  when: ParsedCondition | null;
  /** `source.<field>` names the condition reads, resolved to fields. */
  whenFields: ReadonlyMap<string, FieldDef>;
  /** The condition mentions `scope_entity_id`: scope is resolved before it is evaluated. */
  whenNeedsScope: boolean;
  /** Edge type followed to the scope entity. */
  scope: string | null;
  /** Script id, as in the known scripts given to the loader. */
  script: string;
  params: Readonly<Record<string, ParamSource>>;
  mode: RunMode | undefined;
  concurrency: Concurrency;
  /**
   * A new firing for the same scope entity (the changed entity when there is no scope)
   * replaces the session an earlier run of this trigger left open, instead of adding a second
   * one that conflicts with it on commit; a run of it still going is cancelled.
   */
  supersede: boolean;
  remote: boolean;
  maxTraces: number;
}

/** What the loader needs to know about a script. */
export interface KnownScript {
  /** Field keys the script may write: its capability write set (CapabilitySet.writeSet). */
  writes: ReadonlySet<string>;
}

/** A trigger that was not loaded (it is on a cycle), with the error a technician reads. */
export interface RejectedTrigger {
  name: string;
  file: string;
  line: number | undefined;
  error: Error;
}
