/**
 * Typed reads of configuration values. Each names what it expected and what it
 * found, at the key's line, so a technician can fix the file without guessing.
 * Every part that validates a section (workspace, modules, scripts, triggers,
 * peer) uses these rather than checking `typeof` itself.
 */
import { configError } from "./toml-document.ts";
import type { TomlDocument, TomlTable } from "./toml-document.ts";

/** Plain-language name of a TOML value's type, for error messages. */
export function describeValue(value: unknown): string {
  if (typeof value === "string") return `the string ${JSON.stringify(value)}`;
  if (typeof value === "number") return Number.isInteger(value) ? `the integer ${value}` : `the float ${value}`;
  if (typeof value === "boolean") return `${value}`;
  if (typeof value === "bigint") return `the integer ${value}`;
  if (Array.isArray(value)) return "a list";
  if (isTable(value)) return "a table";
  return `the value ${String(value)}`;
}

export function isTable(value: unknown): value is TomlTable {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return false;
  const proto: unknown = Object.getPrototypeOf(value);
  // smol-toml builds tables as plain objects; dates are class instances.
  return proto === Object.prototype || proto === null;
}

/** The value at `path` must be a table (a `[section]` or inline `{ ... }`). */
export function expectTable(doc: TomlDocument, path: readonly string[], value: unknown): TomlTable {
  if (!isTable(value)) throw configError(doc, path, `expected a table, got ${describeValue(value)}`);
  return value;
}

/** A required, non-empty string. */
export function requireString(doc: TomlDocument, path: readonly string[], table: TomlTable, key: string): string {
  const value = table[key];
  if (value === undefined) throw configError(doc, [...path, key], `is required (a string)`);
  return checkString(doc, [...path, key], value);
}

export function optionalString(
  doc: TomlDocument,
  path: readonly string[],
  table: TomlTable,
  key: string,
  fallback: string,
): string {
  const value = table[key];
  if (value === undefined) return fallback;
  if (typeof value !== "string") throw configError(doc, [...path, key], `expected a string, got ${describeValue(value)}`);
  return value;
}

export function optionalBool(
  doc: TomlDocument,
  path: readonly string[],
  table: TomlTable,
  key: string,
  fallback: boolean,
): boolean {
  const value = table[key];
  if (value === undefined) return fallback;
  if (typeof value !== "boolean") {
    throw configError(doc, [...path, key], `expected true or false, got ${describeValue(value)}`);
  }
  return value;
}

/** An integer no smaller than `min`. */
export function optionalInt(
  doc: TomlDocument,
  path: readonly string[],
  table: TomlTable,
  key: string,
  fallback: number,
  min = Number.MIN_SAFE_INTEGER,
): number {
  const value = table[key];
  if (value === undefined) return fallback;
  if (typeof value !== "number" || !Number.isInteger(value)) {
    throw configError(doc, [...path, key], `expected an integer, got ${describeValue(value)}`);
  }
  if (value < min) throw configError(doc, [...path, key], `must be at least ${min}, got ${value}`);
  return value;
}

/** A list of strings; required when `fallback` is undefined. Elements are checked one by one, at their own line. */
export function stringList(
  doc: TomlDocument,
  path: readonly string[],
  table: TomlTable,
  key: string,
  fallback?: readonly string[],
): string[] {
  const value = table[key];
  if (value === undefined) {
    if (fallback === undefined) throw configError(doc, [...path, key], `is required (a list of strings)`);
    return [...fallback];
  }
  if (!Array.isArray(value)) {
    throw configError(doc, [...path, key], `expected a list of strings, got ${describeValue(value)}`);
  }
  return value.map((v: unknown, i) => checkString(doc, [...path, key, String(i)], v));
}

function checkString(doc: TomlDocument, path: readonly string[], value: unknown): string {
  if (typeof value !== "string") throw configError(doc, path, `expected a string, got ${describeValue(value)}`);
  if (value.trim() === "") throw configError(doc, path, `must not be empty`);
  return value;
}
