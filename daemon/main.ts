/**
 * Wiring only: builds the daemon's parts for one show directory and starts
 * them (config → store → peer node → services → socket server), and stops
 * them in the reverse order. The script runtime and triggers are built-in
 * services; others plug in as `services`.
 */
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { loadShow } from "./config/index.ts";
import type { ShowConfig } from "./config/index.ts";
import { StorageError, WorkspaceStore, levelPersistence, lockedStore } from "./crdt/index.ts";
import { createPeerNode, generateWorkspaceKey, listenOverride, loadOrCreatePeerId, readWorkspaceKey, writeWorkspaceKey } from "./peer/index.ts";
import type { PeerNode } from "./peer/index.ts";
import {
  EventHub,
  MethodRegistry,
  RpcServer,
  bridgeEvents,
  consoleSettings,
  createLogger,
  createScriptsService,
  createTriggersService,
  makePrivateDir,
  peerSettings,
  registerCoreMethods,
  startConsole,
  startScriptHost,
} from "./server/index.ts";
import { ServedMethods } from "./server/index.ts";
import { storeNames, withEntityNames } from "./server/index.ts";
import { registerInviteMethods } from "./server/index.ts";
import type { DaemonService, LogFormat, Logger, ScriptsServiceOptions } from "./server/index.ts";
import { MAX_SOCKET_PATH_BYTES, socketPath } from "../protocol/index.ts";
import { DAEMON_VERSION } from "../protocol/index.ts";

// Declared beside the services (which import them) and re-exported here, where they are wired.
export type { DaemonService, ServiceContext } from "./server/index.ts";

export interface DaemonOptions {
  showDir: string;
  logFormat?: LogFormat;
  /** Console copy of the log (default stderr); null silences it (the log file is still written). */
  console?: NodeJS.WritableStream | null;
  /** Where the startup banner goes (default stdout); null: nowhere. */
  banner?: NodeJS.WritableStream | null;
  /** Started after the built-in scripts and triggers services. */
  services?: DaemonService[];
  /** The scripts and triggers services (on by default); false leaves them out (socket-only tests). */
  scripts?: ScriptsServiceOptions | false;
  /** Run without the libp2p node (tests of the socket alone). */
  network?: boolean;
  /**
   * Listen addresses asked for by hand (`--listen`: multiaddrs, or bare ports applied to the configured
   * addresses): used instead of `[peer] listen`, and a taken port is an error. A configured port that is
   * taken moves to a free one instead.
   */
  listen?: string[];
  /** How long running requests may take to finish at shutdown (default 10 s). */
  shutdownGraceMs?: number;
  now?: () => number;
  /** The built web console (default: the package's dist/console). */
  consoleAssets?: string;
}

export interface RunningDaemon {
  readonly showDir: string;
  readonly socket: string;
  readonly peerId: string;
  readonly store: WorkspaceStore;
  readonly peer: PeerNode | null;
  readonly log: Logger;
  /** The web console's address with its token (null when `[console] enabled = false`). */
  readonly consoleUrl: string | null;
  /** Stop accepting work, let running work finish, flush and close. Idempotent. */
  stop(): Promise<void>;
}

export async function startDaemon(opts: DaemonOptions): Promise<RunningDaemon> {
  const now = opts.now ?? Date.now;
  const startedAt = now();
  const show = await loadShow(opts.showDir);
  const settings = peerSettings(show.config.peer, show.dir.root);
  const consoleConfig = consoleSettings(show.config.console);
  const socket = socketPath(show.dir.root);
  if (Buffer.byteLength(socket) > MAX_SOCKET_PATH_BYTES) {
    throw new StorageError(
      `the socket path ${socket} is ${Buffer.byteLength(socket)} bytes, more than the ${MAX_SOCKET_PATH_BYTES} a Unix socket allows; move the show to a shorter path`,
      { socket },
    );
  }
  // Private before anything is created in it: the socket, the store and the peer key live here.
  makePrivateDir(show.dir.stateDir);
  const log = createLogger({ format: opts.logFormat ?? "text", file: path.join(show.dir.stateDir, "logs", "daemon.log"), console: opts.console });
  let ready = false;
  const cleanups: (() => Promise<void> | void)[] = [
    () => {
      if (ready) log.info("daemon stopped", {});
      log.close();
    },
  ];
  const unwind = async (): Promise<void> => {
    for (const c of cleanups.splice(0).reverse()) await c();
  };
  try {
    const peerId = await loadOrCreatePeerId(show.dir.stateDir);
    const store = await openStoreOnce(show, peerId);
    cleanups.push(() => store.close());
    const pidFile = path.join(show.dir.stateDir, "daemon.pid");
    fs.writeFileSync(pidFile, `${process.pid}\n`);
    cleanups.push(() => fs.rmSync(pidFile, { force: true }));

    const events = new EventHub();
    const untap = log.tap((r) => {
      if (events.wants("log")) events.publish({ type: "log", ...r });
    });
    cleanups.push(() => void untap());

    let peer: PeerNode | null = null;
    if (opts.network !== false) {
      if (!fs.existsSync(settings.keyFile)) {
        writeWorkspaceKey(settings.keyFile, generateWorkspaceKey());
        log.info(`created a new workspace key at ${settings.keyFile}: copy this file to every peer of the show`, { keyFile: settings.keyFile });
      }
      const workspaceKey = readWorkspaceKey(settings.keyFile);
      peer = await createPeerNode({
        stateDir: show.dir.stateDir,
        name: settings.name,
        modules: show.modules.map((m) => `${m.name}@${m.version}`),
        listen: opts.listen ? listenOverride(opts.listen, settings.listen) : settings.listen,
        listenMode: opts.listen ? "exact" : "fallback",
        connect: settings.connect,
        mdns: settings.mdns,
        allowPeers: settings.allow.length ? settings.allow : undefined,
        workspaceKey,
        store,
        log: (level, msg, fields) => log.log(level, msg, fields),
      });
      const node = peer;
      cleanups.push(() => node.stop());
    }

    const methods = new MethodRegistry();
    // What clients (socket and console) call: the same methods, with entity names beside ids in errors.
    const nameOf = storeNames(store);
    const served = new ServedMethods(methods, { describeError: (e) => withEntityNames(e, nameOf) });
    registerCoreMethods(methods, {
      store,
      peer,
      info: { version: DAEMON_VERSION, showDir: show.dir.root, socket, workspaceName: show.config.workspace.name, peerName: settings.name, startedAt },
      now,
    });
    cleanups.push(bridgeEvents(store, peer, events));
    const builtins: DaemonService[] = [];
    if (opts.scripts !== false) {
      // The engine and the runtime are built once, here; each service gets the parts it uses.
      const host = await startScriptHost({ show, store, events, log }, { now, ...opts.scripts });
      cleanups.push(() => host.close());
      builtins.push(createScriptsService(host), createTriggersService({ host, now }));
    }
    for (const service of [...builtins, ...(opts.services ?? [])]) {
      const handle = await service.start({ show, store, peer, methods, events, log });
      if (handle) cleanups.push(() => handle.stop());
    }

    // We hold the store's lock, so a socket file left here is from a daemon that died.
    fs.rmSync(socket, { force: true });
    const socketMethods = new ServedMethods(served);
    const invites = registerInviteMethods(socketMethods, { show, settings, peer, log });
    cleanups.push(() => invites.stop());
    const server = await RpcServer.listen({ path: socket, methods: socketMethods, events, log });
    const grace = opts.shutdownGraceMs ?? 10_000;
    cleanups.push(async () => {
      await server.close(grace);
      fs.rmSync(socket, { force: true });
    });

    const web = await startConsole({
      settings: consoleConfig,
      stateDir: show.dir.stateDir,
      configFile: show.config.file,
      assetsDir: opts.consoleAssets ?? path.join(path.dirname(path.dirname(fileURLToPath(import.meta.url))), "dist", "console"),
      methods: served,
      events,
      log,
    });
    if (web) cleanups.push(() => web.close(grace));

    const addresses = peer?.addresses() ?? [];
    log.info(`daemon ready for ${show.dir.root}`, { socket, peerId, addresses, workspace: show.config.workspace.id, pid: process.pid, console: web?.url ?? null });
    const consoleUrl = web?.urlWithToken ?? null;
    writeBanner(opts.banner === undefined ? process.stdout : opts.banner, { show, socket, peerId, addresses, keyFile: settings.keyFile, consoleUrl });

    ready = true;
    let stopping: Promise<void> | null = null;
    return {
      showDir: show.dir.root,
      socket,
      peerId,
      store,
      peer,
      log,
      consoleUrl,
      stop: () => {
        stopping ??= (async () => {
          log.info("daemon stopping: no new requests; waiting for running ones", { grace });
          // Reverse order of start: the socket (waits for running requests), services, the peer node, then the store.
          await unwind();
        })();
        return stopping;
      },
    };
  } catch (e) {
    await unwind().catch(() => undefined);
    throw e;
  }
}

/** A command that is just finishing with the store gets this long to let go before the daemon gives up. */
const STORE_LOCK_WAIT_MS = 3000;

/** The pid in `daemon.pid` when that process is alive: a running daemon will not let go of the store, so there is no point waiting. */
function runningDaemonPid(pidFile: string): number | undefined {
  const pid = fs.existsSync(pidFile) ? Number(fs.readFileSync(pidFile, "utf8").trim()) : NaN;
  if (!Number.isSafeInteger(pid) || pid <= 0 || pid === process.pid) return undefined;
  try {
    process.kill(pid, 0);
    return pid;
  } catch {
    return undefined;
  }
}

async function openStoreOnce(show: ShowConfig, peerId: string): Promise<WorkspaceStore> {
  const pidFile = path.join(show.dir.stateDir, "daemon.pid");
  try {
    return await WorkspaceStore.open({
      persistence: levelPersistence({
        dir: show.dir.storeDir,
        fsync: show.config.store.fsync,
        acknowledgedFile: show.dir.acknowledgedFile,
        lockWaitMs: runningDaemonPid(pidFile) === undefined ? STORE_LOCK_WAIT_MS : 0,
      }),
      schema: show.schema,
      workspaceId: show.config.workspace.id,
      peerId,
      compactEvery: show.config.store.compactEvery,
    });
  } catch (e) {
    const locked = lockedStore(e);
    if (locked !== undefined) {
      const daemonPid = fs.existsSync(pidFile) ? fs.readFileSync(pidFile, "utf8").trim() : undefined;
      const pid = locked.holderPid !== undefined ? String(locked.holderPid) : (daemonPid ?? "unknown");
      const command = locked.holderCommand;
      const isDaemon = daemonPid !== undefined && daemonPid === pid;
      const who = isDaemon || command === undefined ? `another openprod daemon is already running for ${show.dir.root} (pid ${pid})` : `process ${pid} (${command}) holds the store of ${show.dir.root}`;
      throw new StorageError(
        `${who}${isDaemon ? "" : `, and did not let go within ${STORE_LOCK_WAIT_MS / 1000} s`}; only one daemon may serve a show directory. Stop it first, or use \`openprod status --dir ${show.dir.root}\` to talk to a running daemon`,
        { dir: show.dir.root, pid, command, alreadyRunning: isDaemon },
      );
    }
    throw e;
  }
}

/** `connect = ["<addr>"]`: a TOML line as printed (a basic string, JSON-escaped like TOML's). */
export function connectLine(addr: string): string {
  return `connect = [${JSON.stringify(addr)}]`;
}

function writeBanner(
  out: NodeJS.WritableStream | null,
  b: { show: ShowConfig; socket: string; peerId: string; addresses: string[]; keyFile: string; consoleUrl: string | null },
): void {
  if (out === null) return;
  const dial = b.addresses.find((a) => a.includes("/tcp/")) ?? b.addresses[0];
  const lines = [
    `openprod daemon: ${b.show.config.workspace.name} (${b.show.config.workspace.id})`,
    `  show directory  ${b.show.dir.root}`,
    `  socket          ${b.socket}`,
    `  peer id         ${b.peerId}`,
    `  console         ${b.consoleUrl ?? "off ([console] enabled = false)"}`,
    ...(b.addresses.length ? b.addresses.map((a, i) => `  ${i === 0 ? "listening on   " : "               "} ${a}`) : ["  networking      off"]),
  ];
  if (dial) {
    lines.push(
      "",
      "To add a second peer: run `openprod invite` here and the command it prints on the new machine.",
      "A show directory set up by hand (the same modules and workspace key) connects here with this line in [peer]:",
      `  ${connectLine(dial)}`,
    );
  }
  out.write(lines.join("\n") + "\n");
}
