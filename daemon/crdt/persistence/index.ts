/** Durable storage of the workspace (Automerge changes, full saves, side records): on LevelDB, or in memory. */

export type {
  AcknowledgedState,
  DamagedFile,
  DamagedRecord,
  ListOptions,
  LoadedState,
  OpenPersistence,
  PersistenceOptions,
  PersistenceStats,
  RecordSpace,
  RecordWrite,
  StorageReport,
  StoredChange,
  WorkspacePersistence,
} from "./contract.ts";
export { levelPersistence, openPersistence } from "./workspace-persistence.ts";
export { memoryCopy, memoryPersistence } from "./memory-persistence.ts";
export { lockedStore } from "./open-level.ts";
export type { StoreLocked } from "./open-level.ts";
export { inspectStorage } from "./inspect.ts";
export type { InspectOptions } from "./inspect.ts";
export { salvageStorage, moveStoreAside } from "./salvage.ts";
export type { Salvage } from "./salvage.ts";
