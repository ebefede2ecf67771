/**
 * How a test sees a script run: status, error, its session's ops as readable lines (entities
 * named by the fixture names the test gave them), and what the run told people.
 */
import type { Operation } from "../crdt/index.ts";
import type { HostValue } from "../scripts/engine/index.ts";
import type { RunResult, RuntimeEvent } from "../scripts/runtime/index.ts";

/** Plain data for Lua: JSON's values (undefined dropped). */
export function hostValue(v: unknown): HostValue {
  return v === undefined ? null : (JSON.parse(JSON.stringify(v)) as HostValue);
}

function shortValue(v: unknown): string {
  return typeof v === "string" ? JSON.stringify(v) : JSON.stringify(v ?? null);
}

/** One line per op: `SetField lighting_cues.Q1 number = 1`. */
export function opLine(op: Operation, name: (id: string) => string): string {
  switch (op.op) {
    case "CreateEntity":
      return `CreateEntity ${op.id ? name(op.id) : "(new)"} in ${(op.tables ?? []).join(", ") || "-"}`;
    case "SetField":
      return `SetField ${name(op.id)} ${op.field.split(".").pop() ?? op.field} = ${shortValue(op.value)}`;
    case "DeleteEntity":
      return `DeleteEntity ${name(op.id)}`;
    case "CreateEdge":
    case "CreateOrderedEdge":
      return `${op.op} ${op.type} ${name(op.source)} -> ${name(op.target)}`;
    case "DeleteEdge":
    case "MoveOrderedEdge":
      return `${op.op} ${op.edgeId}`;
    default: {
      const { op: kind, ...rest } = op;
      return `${kind} ${JSON.stringify(rest)}`;
    }
  }
}

export interface RunView {
  result: RunResult;
  events: RuntimeEvent[];
  ops: Operation[];
}

export function runOutcome(v: RunView, name: (id: string) => string): HostValue {
  const { result, events } = v;
  const mine = events.filter((e) => "runId" in e && e.runId === result.runId);
  const session =
    result.sessionId && result.sessionStatus
      ? { id: result.sessionId, status: result.sessionStatus, ops: v.ops.map((o) => opLine(o, name)), raw: hostValue(v.ops) }
      : null;
  const error = result.error
    ? { type: result.error.type, message: result.error.message, file: result.error.file ?? null, line: result.error.line ?? null }
    : null;
  return hostValue({
    run_id: result.runId,
    status: result.status,
    error,
    ops: result.ops,
    session,
    logs: mine.flatMap((e) => (e.type === "log" ? [{ level: e.level, message: e.message }] : [])),
    toasts: mine.flatMap((e) => (e.type === "toast" ? [{ level: e.level, message: e.message }] : [])),
    navigate: mine.flatMap((e) => (e.type === "navigate" ? [{ action: e.action, target: e.target, direction: e.direction ?? null }] : [])),
    progress: mine.flatMap((e) =>
      e.type === "progress" ? [{ phase: e.phase, label: e.label ?? null, current: e.current ?? null, total: e.total ?? null }] : [],
    ),
  });
}
