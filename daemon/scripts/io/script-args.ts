/** Checks of the arguments scripts pass to the I/O modules, with messages naming the call. */
import { InvalidOperation } from "../../crdt/vocabulary.ts";
import { LuaFloat } from "../engine/index.ts";
import type { HostValue } from "../engine/index.ts";

export function portArg(v: HostValue | undefined, call: string): number {
  if (typeof v !== "number" || !Number.isInteger(v) || v < 1 || v > 65535) {
    throw new InvalidOperation(`${call}: port must be an integer 1-65535, got ${JSON.stringify(v ?? null)}`, { port: v instanceof LuaFloat ? v.value : (v ?? null) });
  }
  return v;
}

/** An optional options table (`nil` → {}); anything else is refused with the call named. */
export function optionsTable(v: HostValue | undefined, call: string): { [k: string]: HostValue } {
  if (v === null || v === undefined) return {};
  if (typeof v === "object" && !Array.isArray(v) && !(v instanceof LuaFloat)) return v;
  throw new InvalidOperation(`${call}: options must be a table like { host = "127.0.0.1" }, got ${Array.isArray(v) ? "a list" : typeof v}`, {});
}

export function intOption(opts: { [k: string]: HostValue }, key: string, fallback: number, call: string): number {
  const v = opts[key];
  if (v === null || v === undefined) return fallback;
  if (typeof v !== "number" || !Number.isFinite(v) || v < 0) throw new InvalidOperation(`${call}: option ${key} must be a non-negative number, got ${JSON.stringify(v)}`, { option: key });
  return v;
}
