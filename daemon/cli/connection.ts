/**
 * How a command reaches the workspace: through a running daemon's socket, or,
 * for read-only commands when no daemon runs, by opening the store directly
 * and serving the same methods in-process (so the output is identical). The
 * heavy parts (Automerge, LevelDB) are imported only in that second case.
 */
import fs from "node:fs";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { connect, DaemonNotRunning } from "../../protocol/index.ts";
import type { Client, TypedCall } from "../../protocol/index.ts";
import type * as OfflineMethods from "../server/offline-methods.ts";
// The error classes alone (no store code): the store is imported only when a read needs it.
import { StorageError } from "../crdt/errors.ts";

export interface Connection {
  /** True when talking to a running daemon. */
  readonly live: boolean;
  /** A method of the protocol's map, params and result typed by it. */
  readonly call: TypedCall;
  close(): Promise<void>;
}

const CLIENT_NAME = "openprod-cli";

/** Which show, and who is at the keyboard (`--as`; else `[user] name` of openprod.toml; else the CLI is the actor). */
export interface Target {
  dir: string;
  as?: string;
}

/** The person the CLI writes as: `--as`, else `[user] name` in openprod.toml, else none (actor app:openprod-cli). */
export async function cliUser(target: Target): Promise<string | undefined> {
  if (target.as !== undefined) return target.as;
  try {
    return (await (await import("../config/index.ts")).loadWorkspaceConfig(target.dir)).user?.name;
  } catch {
    // A broken or missing openprod.toml is the daemon's to report; the CLI then writes as itself.
    return undefined;
  }
}

export async function daemonClient(target: Target): Promise<Client> {
  return connect(target.dir, { name: CLIENT_NAME, user: await cliUser(target) });
}

export async function liveConnection(target: Target): Promise<Connection> {
  const client = await daemonClient(target);
  return { live: true, call: (m, ...p) => client.request(m, ...p), close: async () => client.close() };
}

/** The daemon if one runs, else the store opened in this process (read-only use). */
export async function readConnection(target: Target): Promise<Connection> {
  try {
    return await liveConnection(target);
  } catch (e) {
    if (!(e instanceof DaemonNotRunning)) throw e;
    return openStoreHere(target.dir, e);
  }
}

/**
 * The daemon if one runs, else the show's configuration read here: for `scripts.list` and
 * `triggers.list`, which need no store (a show whose daemon never ran has none yet).
 */
export async function configConnection(target: Target): Promise<Connection> {
  try {
    return await liveConnection(target);
  } catch (e) {
    if (!(e instanceof DaemonNotRunning)) throw e;
  }
  const { serveConfigMethods } = await loadFromSources<typeof OfflineMethods>("daemon/server/offline-methods.ts");
  const call = await serveConfigMethods(target.dir);
  return { live: false, call, close: async () => undefined };
}

/**
 * A daemon module run from its TypeScript sources, as `openprod daemon` does (run-daemon.ts):
 * the script runtime reads its Lua preludes next to its sources, which the CLI bundle is not.
 */
export async function loadFromSources<T>(file: string): Promise<T> {
  if (!import.meta.url.endsWith(".ts")) (await import("tsx/esm/api")).register();
  const { packageRoot } = await import("./package-root.ts");
  return (await import(pathToFileURL(path.join(packageRoot(), file)).href)) as T;
}

/** Who an in-process call comes from: nobody that can subscribe or write. */
const OFFLINE_CALL = {
  connection: "offline",
  clientName: CLIENT_NAME,
  actor: { kind: "app" as const, name: CLIENT_NAME },
  setClientName: () => undefined,
  setUser: () => undefined,
  subscribe: (): string => {
    throw new StorageError("no daemon is running: there is nothing to subscribe to", {});
  },
  unsubscribe: () => false,
};

async function openStoreHere(dir: string, notRunning: DaemonNotRunning): Promise<Connection> {
  // The config first: a directory that is no show fails fast, before the store's code is loaded.
  const show = await (await import("../config/index.ts")).loadShow(dir);
  // The core methods alone: the server's index also brings the script runtime, which an offline read never needs.
  const [{ WorkspaceStore }, { MethodRegistry }, { registerCoreMethods }] = await Promise.all([
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
    info: {
      version: "offline",
      showDir: show.dir.root,
      socket: notRunning.socketPath,
      workspaceName: show.config.workspace.name,
      peerName: (await import("../server/peer-settings.ts")).peerSettings(show.config.peer, show.dir.root).name,
      startedAt: Date.now(),
    },
  });
  return {
    live: false,
    call: async (method, ...params) => {
      if (!methods.has(method)) throw new Error(`unknown method ${method}`);
      return methods.call(method, params[0], OFFLINE_CALL);
    },
    close: () => store.close(),
  };
}
