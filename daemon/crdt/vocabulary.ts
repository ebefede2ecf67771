/**
 * The store's light vocabulary: errors, schema, operations, field layout and value rules, HLC,
 * entity names and what each operation writes. It loads neither Automerge nor LevelDB, so a Lua
 * worker thread, the CLI's door (daemon/offline) and the server's light parts can use it; index.ts
 * is the store itself.
 */
export * from "./errors.ts";
export * from "./schema.ts";
export * from "./operations.ts";
export * from "./entity-name.ts";
export * from "./hlc.ts";
export * from "./layout.ts";
export * from "./op-writes.ts";
export * from "./query/values.ts";
