/**
 * How a command reaches the workspace: through a running daemon's socket, or,
 * for read-only commands when no daemon runs, through daemon/offline (the
 * store opened read-only here, serving the same methods, so the output is
 * identical; or the show's configuration readers).
 */
import path from "node:path";
import { pathToFileURL } from "node:url";
import { connect, DaemonNotRunning } from "../../protocol/index.ts";
import type { Client, TypedCall } from "../../protocol/index.ts";
import { CONFIG_READER_SOURCE, openStoreReader } from "../offline/index.ts";
import type { ConfigReaderModule } from "../offline/index.ts";

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
    return { live: false, ...(await openStoreReader(target.dir, e)) };
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
  const { serveConfigMethods } = await loadFromSources<ConfigReaderModule>(CONFIG_READER_SOURCE);
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
