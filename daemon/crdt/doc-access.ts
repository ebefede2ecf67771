/**
 * The seam the operation interpreter (apply-ops.ts) writes through: the dozen Automerge calls it
 * makes on a workspace document. Two implementations: the Automerge backend itself (canonical),
 * and a session overlay's copy-on-write layer over canonical at its snapshot (overlay-access.ts).
 * Because both run the same interpreter, validation, defaults and edge cases are written once.
 */
import type { Backend, Heads } from "./automerge-backend.ts";

export type DocAccess = Pick<
  Backend,
  "get" | "getWithType" | "put" | "putObject" | "delete" | "keys" | "splice" | "insert" | "updateText" | "text" | "materialize" | "length"
>;

export type { Heads };
