/** Session overlays: what a commit found in conflict with canonical changes since the session's snapshot. */
import type { FieldValue } from "./values.ts";

export interface SessionConflict {
  /** `<entity>:<field key>`, stable for the session. */
  id: string;
  entity: string;
  field: string;
  /** What the script left in the field. */
  scriptValue: FieldValue;
  /** What canonical holds now (null when the entity is gone). */
  canonicalValue: FieldValue;
  /** What canonical held at the snapshot. */
  snapshotValue: FieldValue;
  /** Who changed canonical: the newest bundle touching the entity since the session opened. */
  changedBy: { actor: unknown; peer: string; hlc: string; bundle: string } | null;
  entityDeleted: boolean;
  /**
   * "structure": an operation other than a field write (`field` names what it is about, e.g.
   * `@deleted`, `@table:cues`, `@facet:lighting.Cue`, `@position`); the values are sentences.
   * Choosing "script" applies the session's operations on it as they are, "canonical" drops them.
   */
  kind?: "field" | "structure";
  /** For structural conflicts: the overlay operations (by index) the choice keeps or drops. */
  ops?: number[];
  resolution?: "script" | "canonical";
}
