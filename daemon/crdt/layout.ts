/**
 * How a workspace is laid out inside its Automerge document, and how field
 * values are encoded per type. Entities are flat maps (one object each) so a
 * 100k-entity show stays small in memory and fast to load.
 *
 *   root.entities[<id>]            entity map
 *     "@created"                   HLC of creation
 *     "@deleted"                   HLC of deletion (tombstone; never removed)
 *     "@merged_into"               survivor id after a merge
 *     "@facet:<module.Facet>"      true while attached
 *     "@table:<name>"              JSON of membership fields while a member
 *     "@hidden:<field key>"        value kept by detach_facet { preserve = true }
 *     "<module.facet.field>"       the field value (text/list fields are CRDT objects)
 *   root.edges[<id>]               edge map: type, source, target, "@deleted",
 *     "pos" (ordered edges), "p:<name>" properties (JSON)
 *   root.clashes[<id>]             explicit conflicts (merge clashes): JSON record
 */
import type { FieldDef } from "./schema.ts";
import type { FieldValue } from "./operations.ts";
import { InvalidOperation } from "./errors.ts";

export const ENTITIES = "entities";
export const EDGES = "edges";
export const CLASHES = "clashes";

export const K_CREATED = "@created";
export const K_DELETED = "@deleted";
export const K_MERGED_INTO = "@merged_into";
export const FACET_PREFIX = "@facet:";
export const TABLE_PREFIX = "@table:";
export const HIDDEN_PREFIX = "@hidden:";
export const PROP_PREFIX = "p:";

export function isFieldKey(key: string): boolean {
  return !key.startsWith("@");
}

/** A scalar as stored in Automerge plus its datatype for `put`. */
export interface EncodedScalar {
  value: string | number | boolean;
  datatype?: "int" | "f64" | "str" | "boolean";
}

/**
 * A value as callers send it, in the field's shape: an empty table from Lua or `{}` from JSON
 * cannot say it is a list, so for a list field it is the empty list.
 */
export function fieldInput(def: FieldDef, value: FieldValue): FieldValue {
  if (def.type === "list" && value !== null && typeof value === "object" && !Array.isArray(value) && Object.keys(value).length === 0) return [];
  return value;
}

/**
 * The one check of a value against its field's type: a store write (encodeScalar) and a
 * script's call, in its Lua worker where the error can name the script's line
 * (scripts/runtime/field-values.ts), both use it. Null ("clear") passes. Throws
 * InvalidOperation naming entity, field, type and value.
 */
export function checkFieldType(def: FieldDef, value: FieldValue, entity: string): void {
  if (value === null) return;
  const bad = (expected: string): never => {
    throw new InvalidOperation(
      `field ${def.key} of entity ${entity} is ${def.type}: expected ${expected}, got ${describe(value)}`,
      { entity, field: def.key, type: def.type, value },
    );
  };
  switch (def.type) {
    case "string":
    case "text":
      if (typeof value !== "string") bad("a string");
      return;
    case "ref":
      if (typeof value !== "string" || value.length === 0) bad("an entity id");
      return;
    case "int":
      if (typeof value !== "number" || !Number.isSafeInteger(value)) bad("an integer");
      return;
    case "float":
      if (typeof value !== "number" || !Number.isFinite(value)) bad("a number");
      return;
    case "bool":
      if (typeof value !== "boolean") bad("true or false");
      return;
    case "json":
      return;
    case "list":
      if (!Array.isArray(value)) bad("a list");
      for (const item of value as FieldValue[]) checkListItem(def, item, entity);
      return;
  }
}

/** Check a value against a field's type and encode it; null means "clear". */
export function encodeScalar(def: FieldDef, value: FieldValue, entity: string): EncodedScalar | null {
  if (value === null) return null;
  checkFieldType(def, value, entity);
  switch (def.type) {
    case "string":
    case "ref":
    case "text":
      return { value: value as string, datatype: "str" };
    case "int":
      return { value: value as number, datatype: "int" };
    case "float":
      return { value: value as number, datatype: "f64" };
    case "bool":
      return { value: value as boolean, datatype: "boolean" };
    case "json":
      return { value: JSON.stringify(value), datatype: "str" };
    case "list":
      return { value: "", datatype: "str" };
  }
}

export function checkListItem(def: FieldDef, item: FieldValue, entity: string): void {
  if (item === null || typeof item === "object") {
    throw new InvalidOperation(
      `field ${def.key} of entity ${entity} is a list of strings, numbers or booleans: got ${describe(item)}`,
      { entity, field: def.key, value: item },
    );
  }
}

export function describe(value: unknown): string {
  if (value === null || value === undefined) return "nil";
  if (typeof value === "string") return `the string ${JSON.stringify(value.length > 60 ? value.slice(0, 60) + "…" : value)}`;
  if (typeof value === "number") return Number.isInteger(value) ? `the integer ${value}` : `the number ${value}`;
  if (typeof value === "boolean") return `${value}`;
  if (Array.isArray(value)) return "a list";
  return "a table";
}
