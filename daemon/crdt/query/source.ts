/**
 * The seam between the query engine and the workspace store: what a query
 * needs to know about entities, and nothing more. The store implements it
 * over its indexes; tests implement it in memory.
 */
import type { ScalarValue } from "./values.ts";

export interface QuerySource {
  /** Live member ids of a table; throws InvalidOperation for an unknown table. */
  tableMembers(table: string): ReadonlySet<string>;
  /** All live entity ids (only used when nothing indexable constrains the query). */
  allEntities(): Iterable<string>;
  /**
   * Canonical field key for a name as written; `tables` are the tables the query
   * constrains with `table == ...` (to narrow short names).
   * Throws FieldNotFound / InvalidOperation (ambiguous).
   */
  resolveField(name: string, tables: readonly string[]): string;
  /**
   * Ids whose field `key` currently equals `value` (answered from an index, never a scan).
   * Never called with nil: "unset" is checked by filtering.
   * @remarks The result is only read before the next change to the workspace.
   */
  lookupEqual(key: string, value: ScalarValue): Iterable<string>;
  /** Current value of a field (undefined/null when unset). */
  readField(entityId: string, key: string): unknown;
  inTable(entityId: string, table: string): boolean;
  /** A field key's declared type (`string`, `int`...); when given, comparing it with a value of another kind is an InvalidOperation. */
  fieldType?(key: string): string | undefined;
  /** Whether an id names a live entity; when given, `id == ?` needs no scan. */
  isLive?(entityId: string): boolean;
}
