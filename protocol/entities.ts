/** Entities and edges as reads return them. */
import type { FieldValue } from "./values.ts";

export interface EntityState {
  id: string;
  facets: string[];
  /** Table name → membership fields. */
  tables: Record<string, Record<string, FieldValue>>;
  /** HLC of the deletion, null while live. */
  deleted: string | null;
  mergedInto: string | null;
}

/** An entity with its field values (keys `module.facet.field`). */
export interface EntityData extends EntityState {
  fields: Record<string, FieldValue>;
}

export interface EntityView extends EntityData {
  /** How the entity is shown: its table's `display` template filled in, or the fallback (daemon/crdt/entity-name.ts). */
  name: string;
  /** Tables of the entity that this peer's modules do not declare (another peer runs other modules): their fields are not shown. */
  undeclaredTables?: string[];
}

export interface EdgeState {
  id: string;
  type: string;
  source: string;
  target: string;
  /** Fractional position among its siblings (ordered edges); null for plain edges. */
  position: string | null;
  properties: Record<string, FieldValue>;
  deleted: boolean;
}
