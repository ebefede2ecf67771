/**
 * Compiled by `tsc --noEmit`, never run. Where the daemon keeps its own
 * declaration of something that crosses the socket, it must be the wire's
 * exactly: the typed method registry and event hub catch a field the daemon
 * drops or retypes, and these catch one it adds without the protocol saying so.
 */
import type * as Crdt from "../../daemon/crdt/index.ts";
import type * as Runtime from "../../daemon/scripts/runtime/index.ts";
import type * as Triggers from "../../daemon/triggers/index.ts";
import type { ScriptProfile as InternalProfile } from "../../daemon/scripts/runtime/run-profile.ts";
import type * as Wire from "../../protocol/index.ts";

/** True only when A and B are the same type (mutually assignable is not enough for optional fields). */
type Same<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
type Fields<T> = { [K in keyof T]: T[K] };
/** Each member of a union with its fields laid flat (so `A & B` and one interface compare alike). */
type Flat<U> = U extends unknown ? Fields<U> : never;

export const checks: true[] = [
  true satisfies Same<Fields<Crdt.EntityState>, Fields<Wire.EntityState>>,
  true satisfies Same<Fields<Crdt.EntityView>, Fields<Wire.EntityData>>,
  true satisfies Same<Fields<Crdt.EdgeState>, Fields<Wire.EdgeState>>,
  true satisfies Same<Fields<Crdt.FieldChange>, Fields<Wire.FieldChange>>,
  true satisfies Same<Fields<Crdt.BundleChanges>, Fields<Wire.BundleChanges>>,
  true satisfies Same<Fields<Crdt.BundleResult>, Fields<Wire.BundleResult>>,
  true satisfies Same<Crdt.OpResult, Wire.OpResult>,
  true satisfies Same<Fields<Crdt.ConflictValue>, Fields<Wire.ConflictValue>>,
  true satisfies Same<Fields<Crdt.ConflictRecord>, Fields<Wire.ConflictRecord>>,
  true satisfies Same<Fields<Crdt.BulkConflict>, Fields<Wire.BulkConflict>>,
  true satisfies Same<Fields<Runtime.RunRecord>, Fields<Wire.RunRecord>>,
  true satisfies Same<Fields<InternalProfile>, Fields<Wire.ScriptProfile>>,
  true satisfies Same<Fields<Runtime.ReplayResult>, Fields<Wire.ReplayResult>>,
  true satisfies Same<Fields<Runtime.BackgroundStatus>, Fields<Wire.BackgroundInfo>>,
  true satisfies Same<Fields<Runtime.SessionConflict>, Fields<Wire.SessionConflict>>,
  true satisfies Same<Fields<Triggers.TriggerSummary>, Fields<Wire.TriggerSummary>>,
  true satisfies Same<Fields<Triggers.TriggerTrace>, Fields<Wire.TriggerTrace>>,
  true satisfies Same<Flat<Runtime.RuntimeEvent>, Flat<Wire.RuntimeEvent>>,
  true satisfies Same<Flat<Runtime.DialogRequest>, Flat<Wire.DialogRequest>>,
  true satisfies Same<
    Flat<Triggers.TriggerEvent>,
    Flat<({ type: "trigger.chain_stopped" } & Wire.TriggerChainStopped) | ({ type: "trigger.run_failed" } & Wire.TriggerRunFailed)>
  >,
  true satisfies Same<Fields<Triggers.CausalChain>, Fields<Wire.CausalChain>>,
];

// The check itself bites: another type, or one optional field more, is not the same.
// @ts-expect-error an entity is not an edge
export const notSame: true = true satisfies Same<Fields<Crdt.EntityState>, Fields<Wire.EdgeState>>;
// @ts-expect-error a field the other does not declare
export const notSameOptional: true = true satisfies Same<{ a: string }, { a: string; b?: number }>;
