/**
 * Field values between Lua and the store: checked against the field's type where the script
 * made the call (so the error points at that line), and handed back so Lua keeps the type:
 * int fields give Lua integers, float fields Lua floats (2.0, not 2).
 * Imported inside Lua workers too: it must stay free of heavy dependencies.
 */
import { InvalidOperation } from "../../crdt/errors.ts";
import type { FieldDef } from "../../crdt/schema.ts";
import type { FieldValue } from "../../crdt/operations.ts";
import { LuaFloat } from "../engine/types.ts";
import type { HostValue } from "../engine/types.ts";

function describe(value: unknown): string {
  if (value === null || value === undefined) return "nil";
  if (typeof value === "string") return `the string ${JSON.stringify(value.length > 60 ? value.slice(0, 60) + "…" : value)}`;
  if (typeof value === "number") return Number.isInteger(value) ? `the integer ${value}` : `the number ${value}`;
  if (typeof value === "boolean") return `${value}`;
  return "a table";
}

function isEmptyObject(v: unknown): boolean {
  return typeof v === "object" && v !== null && !Array.isArray(v) && !(v instanceof LuaFloat) && Object.keys(v).length === 0;
}

/** A Lua-side value for a field, checked and normalised; nil clears. Throws InvalidOperation naming entity, field and value. */
export function checkFieldValue(def: FieldDef, value: HostValue | FieldValue | undefined, entity: string): FieldValue {
  if (value === null || value === undefined) return null;
  const v = value instanceof LuaFloat ? value.value : value;
  const bad = (expected: string): never => {
    throw new InvalidOperation(`field ${def.key} of entity ${entity} is ${def.type}: expected ${expected}, got ${describe(v)}`, {
      entity,
      field: def.key,
      type: def.type,
    });
  };
  switch (def.type) {
    case "string":
    case "text":
      return typeof v === "string" ? v : bad("a string");
    case "ref":
      return typeof v === "string" && v.length > 0 ? v : bad("an entity id");
    case "int":
      return typeof v === "number" && Number.isSafeInteger(v) ? v : bad("an integer");
    case "float":
      return typeof v === "number" && Number.isFinite(v) ? v : bad("a number");
    case "bool":
      return typeof v === "boolean" ? v : bad("true or false");
    case "list": {
      // An empty Lua table has no way to say it is a list: {} is the empty list here.
      if (isEmptyObject(v)) return [];
      if (!Array.isArray(v)) return bad("a list");
      return v.map((item) => {
        const x = item instanceof LuaFloat ? item.value : item;
        if (x === null || typeof x === "object") {
          throw new InvalidOperation(`field ${def.key} of entity ${entity} is a list of strings, numbers or booleans: got ${describe(x)}`, { entity, field: def.key });
        }
        return x;
      });
    }
    case "json":
      return plain(v) as FieldValue;
  }
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
