/** Open conflicts of the workspace: keys holding several concurrent values, and bulk conflicts between two change sets. */
import type { Actor } from "./bundles.ts";
import type { FieldValue } from "./values.ts";

export interface ConflictValue {
  value: FieldValue;
  /** Automerge op id of the value (`counter@actor`); for clashes, the merged entity it came from. */
  opId: string;
  bundle: string | null;
  peer: string | null;
  hlc: string | null;
  actor: Actor | null;
  /** The change set this value belongs to: the script run id, else the bundle hash. */
  changeSet: string;
}

export interface ConflictRecord {
  id: string;
  /**
   * "concurrent": one key written on two copies; "merge-clash": both merged entities held the field;
   * "stranded": an edit of an entity that another copy merged away at the same time.
   */
  kind: "concurrent" | "merge-clash" | "stranded";
  container: "entity" | "edge";
  /** Entity id (edge id when container is "edge"). */
  entity: string;
  /** Field key (`module.facet.field`), or a structural key (`pos`, `@merged_into`...). */
  field: string;
  values: ConflictValue[];
  /** What every peer shows until someone resolves: the value with the latest HLC. */
  provisional: FieldValue;
  /** Set when the conflict is part of a bulk conflict. */
  bulk?: string;
  clashId?: string;
  /** For "stranded": the survivor the entity was merged into (resolution writes there). */
  mergedInto?: string;
}

export interface BulkConflict {
  id: string;
  count: number;
  /** The two change sets, with who made them. */
  sides: { changeSet: string; peer: string | null; actor: Actor | null }[];
  conflicts: string[];
}
