/** Field values as they cross the socket: what a client writes and what it reads back. */

/** A value as written by callers: scalars, lists (for `list` fields), objects/arrays (for `json`). */
export type FieldValue = null | boolean | number | string | FieldValue[] | { [key: string]: FieldValue };

/** Field key (any addressing form when written; `module.facet.field` when read) → value. */
export type Fields = Record<string, FieldValue>;
