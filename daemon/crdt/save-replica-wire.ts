/** Messages between the store and its save replica's worker thread (save-replica.ts). */

export type ToReplica =
  /** The replica starts over from `base` (a full save; null: an empty document) and the changes after it. */
  | { t: "reset"; base: Uint8Array | null; changes: Uint8Array[] }
  /** Change bytes made durable since the last message, in the order they were stored. */
  | { t: "changes"; changes: Uint8Array[] }
  /** A full save of everything received so far. */
  | { t: "save"; id: number };

export type FromReplica =
  | { t: "saved"; id: number; bytes: Uint8Array; heads: string[] }
  | { t: "failed"; id: number; message: string };
