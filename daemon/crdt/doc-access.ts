/**
 * The seam the operation interpreter (apply-ops.ts) writes through: the dozen Automerge calls it
 * makes on a workspace document. Two implementations: the Automerge backend itself (canonical),
 * and a session overlay's copy-on-write layer over canonical at its snapshot (overlay-access.ts).
 * Because both run the same interpreter, validation, defaults and edge cases are written once.
 * No `materialize`: on the Automerge backend it commits the open transaction (a bundle split in
 * two, its first half without metadata); lists and maps are read key by key (readObject).
 */
import type { Backend, Heads } from "./automerge-backend.ts";

export type DocAccess = Pick<
  Backend,
  "get" | "getWithType" | "put" | "putObject" | "delete" | "keys" | "splice" | "insert" | "updateText" | "text" | "length"
>;

export type { Heads };
