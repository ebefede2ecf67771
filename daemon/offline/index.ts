/**
 * What the CLI runs of the daemon in its own process: the one door past the
 * socket (lint holds daemon/cli to it, to daemon/config and to protocol/).
 * The store read-only, the store's files (inspect, recover), the show's
 * configuration readers, and the light rules the CLI shares with the daemon
 * (error classes, entity naming, did-you-mean, `--listen` checks, the
 * workspace key, profile rendering). Static exports here are plain code;
 * anything that loads Automerge, LevelDB or libp2p is imported on first use.
 */
import type * as ConfigReader from "../server/index.ts";

export { openStoreReader } from "./store-reader.ts";
export type { StoreReader } from "./store-reader.ts";
export { inspectShowStore, recoverShowStore } from "./store-files.ts";
export type { RecoveredShow } from "./store-files.ts";

/**
 * The configuration readers (`scripts.list`, `triggers.list` without a daemon) run from the
 * TypeScript sources, as the daemon does: the script runtime reads its Lua preludes next to
 * them. Load this file with the CLI's loadFromSources.
 */
export const CONFIG_READER_SOURCE = "daemon/server/offline-methods.ts";
export type ConfigReaderModule = typeof ConfigReader;

export { InvalidOperation, StorageError } from "../crdt/vocabulary.ts";
// The modules themselves, not crdt/index.ts: these rules are plain code, the store's index would bring Automerge in.
export { fieldOf, shortId } from "../crdt/vocabulary.ts";
export { suggest } from "../crdt/vocabulary.ts";
export { profileTable, speedscopeFile } from "../scripts/runtime/light.ts";

/** `--listen` and `[peer] listen` checks (multiaddr parsing is loaded on first use). */
export const listenPorts = () => import("../peer/light.ts");
/** Joining a running show (`openprod join`): the join protocol's client, a new identity, the workspace key (libp2p is loaded on first use). */
export const joining = () => import("../peer/index.ts");
export type { JoinOffer } from "../peer/index.ts";
/** The workspace key `openprod init` writes. */
export const workspaceKeys = () => import("../peer/light.ts");

/** Rows of a CSV or JSON file typed by the schema (`openprod import`, and `openprod test`'s CSV fixtures). */
export { readRows, tableFields, typedRows } from "./import-rows.ts";
export type { RowError } from "./import-rows.ts";
