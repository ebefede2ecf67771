/** Header maps as scripts see them: lower-case names, one string value each. */
import type { IncomingHttpHeaders } from "node:http";
import { InvalidOperation } from "../../crdt/vocabulary.ts";
import type { HostValue } from "../engine/index.ts";

export function headersForLua(h: IncomingHttpHeaders): { [k: string]: string } {
  const out: { [k: string]: string } = {};
  for (const [k, v] of Object.entries(h)) {
    if (v === undefined) continue;
    out[k] = Array.isArray(v) ? v.join(", ") : v;
  }
  return out;
}

/** A `{ ["Content-Type"] = "text/plain" }` table from Lua, checked. */
export function headersFromLua(v: HostValue | undefined, call: string): Record<string, string> {
  if (v === null || v === undefined) return {};
  if (typeof v !== "object" || Array.isArray(v)) throw new InvalidOperation(`${call}: headers must be a table of name = value, got ${Array.isArray(v) ? "a list" : typeof v}`, {});
  const out: Record<string, string> = {};
  for (const [k, x] of Object.entries(v)) {
    if (typeof x !== "string" && typeof x !== "number") throw new InvalidOperation(`${call}: header "${k}" must be a string, got ${x === null ? "nil" : typeof x}`, { header: k });
    if (/[\r\n]/.test(String(x)) || !/^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/.test(k)) throw new InvalidOperation(`${call}: header "${k}" has characters HTTP does not allow`, { header: k });
    out[k] = String(x);
  }
  return out;
}
