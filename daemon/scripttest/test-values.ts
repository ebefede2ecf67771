/** Values crossing between a test file's Lua and the runner: Lua tables to fields and run options. */
import { InvalidOperation } from "../crdt/index.ts";
import type { FieldValue } from "../crdt/index.ts";
import { LuaFloat } from "../scripts/engine/index.ts";
import type { HostValue } from "../scripts/engine/index.ts";
import type { RunOptions } from "../scripts/runtime/index.ts";

export const isObj = (v: HostValue | undefined): v is { [k: string]: HostValue } => typeof v === "object" && v !== null && !Array.isArray(v) && !(v instanceof LuaFloat);

/** A Lua number as a JS one (floats come wrapped). */
export const num = (v: HostValue | undefined): number | null => (v instanceof LuaFloat ? v.value : typeof v === "number" ? v : null);

/** A Lua value as a field value: the host values a field can hold (floats unwrapped). */
export function fieldValue(v: HostValue): FieldValue {
  if (v instanceof LuaFloat) return v.value;
  if (Array.isArray(v)) return v.map(fieldValue);
  if (isObj(v)) return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, fieldValue(x)]));
  return v;
}

/** script.run's third argument: the trigger context a run sees and its execution mode. */
export function runOptions(v: HostValue): Pick<RunOptions, "context" | "mode"> {
  if (!isObj(v)) return {};
  const out: Pick<RunOptions, "context" | "mode"> = {};
  if (isObj(v.context)) out.context = v.context;
  if (v.mode !== undefined) {
    if (v.mode !== "session" && v.mode !== "autoCommit") throw new InvalidOperation(`script.run: mode must be "session" or "autoCommit" (got ${JSON.stringify(v.mode)})`, {});
    out.mode = v.mode;
  }
  return out;
}

/** Fields by their short name (`number`), as scripts see them, beside the qualified ones. */
export function shortFields(fields: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(fields)) {
    const short = k.split(".").pop() ?? k;
    if (!(short in out)) out[short] = v;
  }
  return out;
}
