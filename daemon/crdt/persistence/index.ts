/** Durable storage of the workspace (Automerge changes, full saves, side records) on LevelDB. */

export type {
  AcknowledgedState,
  DamagedFile,
  DamagedRecord,
  LoadedState,
  PersistenceOptions,
  PersistenceStats,
  RecordSpace,
  RecordWrite,
  StorageReport,
  StoredChange,
  WorkspacePersistence,
} from "./contract.ts";
export { openPersistence } from "./workspace-persistence.ts";
export { inspectStorage } from "./inspect.ts";
export type { InspectOptions } from "./inspect.ts";
export { salvageStorage, moveStoreAside } from "./salvage.ts";
export type { Salvage } from "./salvage.ts";
