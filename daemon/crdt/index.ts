/** The workspace store: the public face of daemon/crdt. */
export { WorkspaceStore, headsEqual } from "./store.ts";
export type { StoreOptions, BundleResult, EntityView, ReadOptions, HistoryEntry, SyncSession } from "./store.ts";
export type { Heads } from "./automerge-backend.ts";
export type {
  Operation,
  OperationName,
  FieldValue,
  Fields,
  CrdtEdit,
  Actor,
  BundleInput,
  BundleMeta,
  BundleInfo,
} from "./operations.ts";
export type { ChangeEvent, ConflictDelta, FieldChange, ChangeListener, ChangeKind } from "./change-feed.ts";
export type { ConflictRecord, ConflictValue, BulkConflict } from "./conflicts.ts";
export { BULK_THRESHOLD } from "./conflicts.ts";
export type { EdgeState, EntityState } from "./workspace-doc.ts";
export type { OpResult } from "./apply-ops.ts";
export { OverlayDocument } from "./overlay-document.ts";
export { writesOf } from "./op-writes.ts";
export type { WriteTarget, WriteGate } from "./op-writes.ts";
export { Schema, FIELD_TYPES, fieldKey, facetKey, suggest, editDistance } from "./schema.ts";
export type { FieldDef, FacetDef, TableDef, EdgeTypeDef, FieldType, SchemaSource } from "./schema.ts";
export * from "./errors.ts";
export { HybridLogicalClock, formatHlc, parseHlc, compareHlc } from "./hlc.ts";
export { keyBetween, positionBetween } from "./fractional-index.ts";
export { parseQuery, executeQuery, parseCondition, evaluateCondition, formatQuery } from "./query/index.ts";
export type { QuerySource, ParsedQuery, ParsedCondition, ScalarValue } from "./query/index.ts";
export { inspectStorage, levelPersistence, memoryCopy, memoryPersistence, lockedStore } from "./persistence/index.ts";
export type { StorageReport, RecordSpace, RecordWrite, DamagedFile, OpenPersistence, PersistenceOptions, StoreLocked } from "./persistence/index.ts";
export { createIdGenerator } from "./ids.ts";
export type { IdGenerator } from "./ids.ts";
export { recoverStore } from "./recover.ts";
export type { RecoverOptions, RecoverReport } from "./recover.ts";
export { entityName, shortId, displayPlaceholders, fieldOf } from "./entity-name.ts";
export type { NameableEntity } from "./entity-name.ts";
export type { BundleChanges } from "./bundle-changes.ts";
