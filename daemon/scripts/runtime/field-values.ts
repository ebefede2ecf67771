/**
 * Field values between Lua and the store: checked against the field's type where the script
 * made the call (so the error points at that line), and handed back so Lua keeps the type:
 * int fields give Lua integers, float fields Lua floats (2.0, not 2).
 * Imported inside Lua workers too: it must stay free of heavy dependencies.
 */
import { checkFieldType, fieldInput } from "../../crdt/vocabulary.ts";
import type { FieldDef } from "../../crdt/vocabulary.ts";
import type { FieldValue } from "../../crdt/vocabulary.ts";
import { LuaFloat } from "../engine/light.ts";
import type { HostValue } from "../engine/light.ts";

/**
 * A Lua-side value for a field, checked and normalised; nil clears. The type rule is the
 * store's own (crdt/layout.ts' checkFieldType), applied here so the error points at the
 * script's line. Throws InvalidOperation naming entity, field and value.
 */
export function checkFieldValue(def: FieldDef, value: HostValue | FieldValue | undefined, entity: string): FieldValue {
  if (value === null || value === undefined) return null;
  // An empty Lua table has no way to say it is a list: {} is the empty list (fieldInput).
  const v = fieldInput(def, plain(value) as FieldValue);
  checkFieldType(def, v, entity);
  return v;
}

function plain(v: unknown): unknown {
  if (v instanceof LuaFloat) return v.value;
  if (Array.isArray(v)) return v.map(plain);
  if (v !== null && typeof v === "object") return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, plain(x)]));
  return v;
}

/** A stored value as Lua should see it. */
export function luaValue(def: FieldDef | undefined, value: FieldValue | undefined): HostValue {
  if (value === undefined || value === null) return null;
  if (def?.type === "float" && typeof value === "number") return new LuaFloat(value);
  return value as HostValue;
}
