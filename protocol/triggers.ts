/** Triggers as clients see them: the configured list, each firing's trace, and the causal chain runs carry. */

export interface CausalChain {
  /** Same for every run caused, directly or not, by one original change. */
  id: string;
  /** Trigger runs before this one in the chain (0 for a run caused by a person's edit). */
  depth: number;
  /** When the original change was made (ms since epoch, the daemon's clock). */
  startedAt: number;
}

export interface TriggerSummary {
  name: string;
  status: "active" | "rejected";
  file: string;
  line: number | undefined;
  /** For rejected triggers: why (the cycle). */
  error?: string;
  watches?: string;
  script?: string;
  when?: string | null;
  scope?: string | null;
  mode?: string;
  concurrency?: string;
  supersede?: boolean;
  remote?: boolean;
  fired: number;
  /** Firings queued or running now. */
  pending: number;
}

export type TraceStatus =
  /** Waiting for a free run slot (or for the entity's previous run). */
  | "queued"
  | "running"
  | "ok"
  | "failed"
  /** Aborted because the trigger fired again (concurrency = "restart"). */
  | "cancelled"
  /** The safety net refused to start it (chain too deep or too old). */
  | "stopped"
  /** `when` was false. */
  | "filtered"
  /** The scope edge does not exist for this entity. */
  | "no_scope"
  /** A run for the entity was already going (concurrency = "single"). */
  | "skipped"
  /** Replaced before it started by a newer firing (concurrency = "restart"). */
  | "superseded";

export interface TriggerTrace {
  /** Increases with every firing of any trigger: sorts traces in firing order. */
  seq: number;
  trigger: string;
  at: number;
  origin: "local" | "remote";
  /** Hash of the bundle whose change fired the trigger. */
  bundle: string | null;
  entity: string;
  field: string;
  oldValue: unknown;
  newValue: unknown;
  /** Result of `when`; null without one (or when it could not be evaluated). */
  condition: boolean | null;
  /** Scope resolution: the edge type followed and where it led (null entity: nowhere). */
  scope: { edgeType: string; entity: string | null; note?: string } | null;
  args: Record<string, unknown> | null;
  chain: CausalChain;
  status: TraceStatus;
  runId: string | null;
  /** The runner's own status word (`ok`, `failed`, `timeout`...). */
  runStatus: string | null;
  error: { type: string; message: string } | null;
  /** Why it did not run, in words. */
  reason: string | null;
}

/** The safety net stopped a chain of trigger runs. */
export interface TriggerChainStopped {
  trigger: string;
  entity: string;
  chain: CausalChain;
  reason: "depth" | "age";
  message: string;
}

/** A trigger's run could not start or failed. */
export interface TriggerRunFailed {
  trigger: string;
  entity: string;
  runId: string | null;
  error: { type: string; message: string };
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
  chain: CausalChain;
}
