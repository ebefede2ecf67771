/**
 * The store opened read-only in the CLI's own process, for the read commands
 * when no daemon runs: the same core methods the socket serves, so the output
 * is identical. The heavy parts (Automerge, LevelDB, the peer identity) are
 * imported only when a reader is opened.
 */
import fs from "node:fs";
import path from "node:path";
import type { DaemonNotRunning, TypedCall } from "../../protocol/index.ts";
// The error classes alone (no store code): the store is imported only when a read needs it.
import { StorageError } from "../crdt/vocabulary.ts";

const READER_NAME = "openprod-cli";

/** Who an in-process call comes from: nobody that can subscribe or write. */
const OFFLINE_CALL = {
  connection: "offline",
  clientName: READER_NAME,
  actor: { kind: "app" as const, name: READER_NAME },
  setClientName: () => undefined,
  setUser: () => undefined,
  subscribe: (): string => {
    throw new StorageError("no daemon is running: there is nothing to subscribe to", {});
  },
  unsubscribe: () => false,
};

/** A read-only view of a show's store, serving the socket's core methods in this process. */
export interface StoreReader {
  /** The core methods (status, schema, query, get, history, conflicts...), typed by the protocol's map. */
  readonly call: TypedCall;
  close(): Promise<void>;
}

/**
 * Opens the show's store at `dir` read-only (a private copy: it never changes the store's files nor
 * holds the LOCK a starting daemon needs). `notRunning` is why the socket was not used; its message
 * starts the error when the show has no store yet.
 */
export async function openStoreReader(dir: string, notRunning: DaemonNotRunning): Promise<StoreReader> {
  // The config first: a directory that is no show fails fast, before the store's code is loaded.
  const show = await (await import("../config/index.ts")).loadShow(dir);
  // The core methods alone: the server's index also brings the script runtime, which an offline read never needs.
  const [{ WorkspaceStore, levelPersistence }, { MethodRegistry }, { registerCoreMethods }] = await Promise.all([
    import("../crdt/index.ts"),
    import("../server/light.ts"),
    import("../server/light.ts"),
  ]);
  // Without a store but with a record of acknowledged bundles, the store was lost: opening it says so.
  if (!fs.existsSync(path.join(show.dir.storeDir, "CURRENT")) && !fs.existsSync(show.dir.acknowledgedFile)) {
    throw new StorageError(`${notRunning.message}; the show has no workspace store yet (${show.dir.storeDir}), the daemon creates it`, {
      dir: show.dir.storeDir,
      daemonRunning: false,
    });
  }
  // The peer id is only stamped on writes, and this connection never writes; still report the real one.
  const identity = path.join(show.dir.stateDir, "peer-key");
  const peerId = fs.existsSync(identity) ? await (await import("../peer/index.ts")).loadOrCreatePeerId(show.dir.stateDir) : "unknown";
  // A private copy: a read never changes the store's files, and never holds the LOCK a starting daemon needs.
  const store = await WorkspaceStore.open({
    persistence: levelPersistence({ dir: show.dir.storeDir, acknowledgedFile: show.dir.acknowledgedFile, readOnly: true }),
    schema: show.schema,
    workspaceId: show.config.workspace.id,
    peerId,
  });
  const methods = new MethodRegistry();
  registerCoreMethods(methods, {
    store,
    peer: null,
    info: {
      version: "offline",
      showDir: show.dir.root,
      socket: notRunning.socketPath,
      workspaceName: show.config.workspace.name,
      peerName: (await import("../server/light.ts")).peerSettings(show.config.peer, show.dir.root).name,
      startedAt: Date.now(),
    },
  });
  return {
    call: async (method, ...params) => {
      if (!methods.has(method)) throw new Error(`unknown method ${method}`);
      return methods.call(method, params[0], OFFLINE_CALL);
    },
    close: () => store.close(),
  };
}
