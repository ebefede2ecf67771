/**
 * How a command reaches the workspace: through a running daemon's socket, or,
 * for read-only commands when no daemon runs, by opening the store directly
 * and serving the same methods in-process (so the output is identical). The
 * heavy parts (Automerge, LevelDB) are imported only in that second case.
 */
import fs from "node:fs";
import path from "node:path";
import { connect, DaemonNotRunning } from "../../protocol/index.ts";
import type { Client } from "../../protocol/index.ts";

export interface Connection {
  /** True when talking to a running daemon. */
  readonly live: boolean;
  call(method: string, params?: unknown): Promise<unknown>;
  close(): Promise<void>;
}

const CLIENT_NAME = "openprod-cli";

export async function daemonClient(dir: string): Promise<Client> {
  return connect(dir, { name: CLIENT_NAME });
}

export async function liveConnection(dir: string): Promise<Connection> {
  const client = await daemonClient(dir);
  return { live: true, call: (m, p) => client.call(m, p ?? {}), close: async () => client.close() };
}

/** The daemon if one runs, else the store opened in this process (read-only use). */
export async function readConnection(dir: string): Promise<Connection> {
  try {
    return await liveConnection(dir);
  } catch (e) {
    if (!(e instanceof DaemonNotRunning)) throw e;
    return openStoreHere(dir, e);
  }
}

async function openStoreHere(dir: string, notRunning: DaemonNotRunning): Promise<Connection> {
  // The config first: a directory that is no show fails fast, before the store's code is loaded.
  const show = await (await import("../config/index.ts")).loadShow(dir);
  // The core methods alone: the server's index also brings the script runtime, which an offline read never needs.
  const [{ WorkspaceStore, StorageError }, { MethodRegistry }, { registerCoreMethods }] = await Promise.all([
    import("../crdt/index.ts"),
    import("../server/method-registry.ts"),
    import("../server/core-methods.ts"),
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
    dir: show.dir.storeDir,
    schema: show.schema,
    workspaceId: show.config.workspace.id,
    peerId,
    acknowledgedFile: show.dir.acknowledgedFile,
    readOnly: true,
  });
  const methods = new MethodRegistry();
  registerCoreMethods(methods, {
    store,
    peer: null,
    info: { version: "offline", showDir: show.dir.root, socket: notRunning.socketPath, workspaceName: show.config.workspace.name, startedAt: Date.now() },
  });
  const ctx = {
    connection: "offline",
    clientName: CLIENT_NAME,
    actor: { kind: "app" as const, name: CLIENT_NAME },
    setClientName: () => undefined,
    subscribe: (): string => {
      throw new StorageError("no daemon is running: there is nothing to subscribe to", {});
    },
    unsubscribe: () => false,
  };
  return {
    live: false,
    call: async (method, params) => {
      const entry = methods.get(method);
      if (!entry) throw new Error(`unknown method ${method}`);
      return entry.handler(entry.check(params ?? {}, "params"), ctx);
    },
    close: () => store.close(),
  };
}
