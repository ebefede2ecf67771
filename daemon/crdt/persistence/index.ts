/** Durable storage of the workspace (Automerge changes, full saves, side records) on LevelDB. */

export type {
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
