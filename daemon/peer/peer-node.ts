import "./polyfill.ts";
import type { Connection, Libp2p, PeerInfo as LibPeerInfo, Stream } from "@libp2p/interface";
import { peerIdFromPrivateKey } from "@libp2p/peer-id";
import { multiaddr } from "@multiformats/multiaddr";
import { ConfigError, NetworkError, Timeout } from "../crdt/vocabulary.ts";
import { SYNC_PROTOCOL_ID } from "./hello.ts";
import type { Refusal } from "./hello.ts";
import { loadOrCreateIdentity } from "./identity.ts";
import { PeerEventHub } from "./peer-events.ts";
import type { PeerInfo, PeerLog, PeerNodeEvents } from "./peer-events.ts";
import { StaticPeers } from "./static-peers.ts";
import type { Backoff } from "./static-peers.ts";
import { SyncChannel } from "./sync-channel.ts";
import type { SyncChannelLimits } from "./sync-channel.ts";
import type { SyncDocument } from "./sync-document.ts";
import { storeSyncDocument } from "./store-sync-document.ts";
import type { SyncableStore } from "./store-sync-document.ts";
import { createTransport } from "./transport.ts";
import { chooseListen, listenFailure, DEFAULT_LISTEN } from "./listen-ports.ts";
import type { ListenMove } from "./listen-ports.ts";

export interface PeerNodeOptions {
  /** The daemon state dir (.openprod/); the peer identity key is kept here, created on first start. */
  stateDir: string;
  /** Multiaddrs to listen on; default ["/ip4/0.0.0.0/tcp/4101"]. */
  listen?: string[];
  /**
   * What a taken TCP port in `listen` means: `exact` (default) fails start with one NetworkError line;
   * `fallback` (a port from the config, not asked for by hand) moves to the next free port and logs it.
   */
  listenMode?: "exact" | "fallback";
  /** Workspace key (libp2p pnet swarm key); see generateWorkspaceKey. */
  workspaceKey: Uint8Array;
  /** When given, only these peer ids may connect. */
  allowPeers?: string[];
  /** Static peers (multiaddrs), kept connected with backoff. */
  connect?: string[];
  /** This peer's name for people, told to every peer in the hello (default: none). */
  name?: string;
  /** The modules this peer runs (`name@version`): peers tell each other and warn when they differ. */
  modules?: readonly string[];
  /** Discover peers on the LAN by mDNS. */
  mdns?: boolean;
  /** The workspace store this peer syncs (the daemon's case). Give exactly one of `store` and `document`. */
  store?: SyncableStore;
  /** Any other document behind the sync seam (tests, tools). */
  document?: SyncDocument;
  log: PeerLog;
  limits?: Partial<SyncChannelLimits>;
  backoff?: Partial<Backoff>;
  /** How long a dial may take, and how long connect() then waits for the sync conversation to start (default 15 s). */
  connectTimeoutMs?: number;
  /** Jitter source for retries; Math.random by default. */
  random?: () => number;
  /** Start listening and dialling right away (default true). */
  start?: boolean;
}

export interface PeerNode {
  readonly peerId: string;
  /** Multiaddrs (with /p2p/<id>) other peers can dial; empty while stopped. */
  addresses(): string[];
  /** Dial a peer and wait until its sync conversation is up; the address is then kept connected like a static peer. */
  connect(addr: string): Promise<void>;
  /** Peers whose sync conversation is up. */
  peers(): PeerInfo[];
  on<K extends keyof PeerNodeEvents>(event: K, listener: (e: PeerNodeEvents[K]) => void): () => void;
  /** Close every connection; static peers are redialled with backoff. */
  disconnectAll(): Promise<void>;
  start(): Promise<void>;
  stop(): Promise<void>;
}

export const DEFAULT_LIMITS: SyncChannelLimits = { maxFrameBytes: 64 * 1024 * 1024, frameTimeoutMs: 30_000 };
const DEFAULT_CONNECT_TIMEOUT_MS = 15_000;
const DEFAULT_BACKOFF: Backoff = { initialMs: 250, maxMs: 15_000 };

export async function createPeerNode(opts: PeerNodeOptions): Promise<PeerNode> {
  const document = documentOf(opts);
  const privateKey = await loadOrCreateIdentity(opts.stateDir);
  const node = new Node(opts, document, privateKey);
  if (opts.start !== false) await node.start();
  return node;
}

function documentOf(opts: PeerNodeOptions): SyncDocument {
  if (opts.store !== undefined && opts.document !== undefined) {
    throw new ConfigError(`peer node for ${opts.stateDir}: give either a store or a document to sync, not both`, { stateDir: opts.stateDir });
  }
  if (opts.store !== undefined) return storeSyncDocument(opts.store);
  if (opts.document !== undefined) return opts.document;
  throw new ConfigError(`peer node for ${opts.stateDir}: nothing to sync (pass the workspace store as \`store\`)`, { stateDir: opts.stateDir });
}

type PrivateKey = Awaited<ReturnType<typeof loadOrCreateIdentity>>;

class Node implements PeerNode {
  readonly peerId: string;
  private libp2p: Libp2p | null = null;
  private listen: string[];
  private readonly limits: SyncChannelLimits;
  private readonly events: PeerEventHub;
  private readonly channels = new Map<string, SyncChannel>();
  private readonly upPeers = new Set<string>();
  private readonly staticPeers: StaticPeers;
  private unsubscribeDocument: (() => void) | null = null;
  private starting: Promise<void> | null = null;
  /** False until the first start has settled where to listen (later starts reuse the ports actually bound). */
  private listenChosen = false;
  /** Peers found by mDNS that are being dialled now (announcements repeat while the dial runs). */
  private readonly mdnsDials = new Set<string>();

  constructor(
    private readonly opts: PeerNodeOptions,
    private readonly document: SyncDocument,
    private readonly privateKey: PrivateKey,
  ) {
    this.listen = opts.listen ?? DEFAULT_LISTEN;
    this.limits = { ...DEFAULT_LIMITS, ...opts.limits };
    this.events = new PeerEventHub(opts.log);
    this.peerId = peerIdOf(privateKey);
    this.staticPeers = new StaticPeers({
      dial: async (addr) => (await this.dial(addr)).remotePeer.toString(),
      isConnected: (peerId) => this.libp2p?.getConnections().some((c) => c.remotePeer.toString() === peerId) ?? false,
      log: opts.log,
      backoff: { ...DEFAULT_BACKOFF, ...opts.backoff },
      random: opts.random ?? Math.random,
    });
    for (const addr of opts.connect ?? []) this.staticPeers.add(addr);
  }

  addresses(): string[] {
    return this.libp2p?.getMultiaddrs().map((a) => a.toString()) ?? [];
  }

  peers(): PeerInfo[] {
    return [...this.channels.values()].filter((c) => c.isUp).map((c) => c.info());
  }

  on<K extends keyof PeerNodeEvents>(event: K, listener: (e: PeerNodeEvents[K]) => void): () => void {
    return this.events.on(event, listener);
  }

  start(): Promise<void> {
    this.starting ??= this.doStart().finally(() => (this.starting = null));
    return this.starting;
  }

  private async doStart(): Promise<void> {
    if (this.libp2p !== null) return;
    let moved: ListenMove[] = [];
    if (!this.listenChosen) {
      const choice = await chooseListen(this.listen, this.opts.listenMode ?? "exact");
      moved = choice.moved;
      this.listen = choice.listen;
      this.listenChosen = true;
    }
    let libp2p: Libp2p;
    try {
      libp2p = await createTransport({
        privateKey: this.privateKey,
        listen: this.listen,
        workspaceKey: this.opts.workspaceKey,
        allowPeers: this.opts.allowPeers,
        mdns: this.opts.mdns,
        onMdnsPeer: (found) => this.onMdnsPeer(found),
        log: this.opts.log,
        dialTimeoutMs: this.opts.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS,
      });
    } catch (err) {
      // The port was free a moment ago, or a port libp2p binds itself: still one line, not a stack.
      throw listenFailure(err, this.listen) ?? err;
    }
    this.libp2p = libp2p;
    for (const m of moved) {
      const to = m.to.includes("/tcp/0") ? this.addresses().join(" ") : m.to;
      this.opts.log("warn", `${m.from} is in use (another show on this machine?); listening on ${to} instead. Peers that dial this one need that address; set [peer] listen or --listen to choose`, {
        from: m.from,
        to,
      });
    }
    // A restart (partition heal) listens where peers last saw us, even if the port was chosen by the OS.
    this.listen = libp2p.getMultiaddrs().map((a) => a.decapsulateCode(421).toString());
    await libp2p.handle(SYNC_PROTOCOL_ID, (stream, connection) => this.attach(stream, connection), { maxInboundStreams: 4 });
    libp2p.addEventListener("connection:open", (evt) => {
      // The dialler opens the sync stream, so one connection carries one conversation.
      if (evt.detail.direction === "outbound") void this.openSyncStream(evt.detail);
    });
    libp2p.addEventListener("peer:disconnect", (evt) => this.staticPeers.disconnected(evt.detail.toString()));
    this.unsubscribeDocument = this.document.onChange(() => {
      for (const channel of this.channels.values()) channel.notifyChange();
    });
    this.staticPeers.start();
    this.opts.log("info", `peer ${this.peerId} listening`, { peerId: this.peerId, addresses: this.addresses() });
  }

  /** A peer mDNS found on the LAN: dialled at the addresses it announced, unless already connected. */
  private onMdnsPeer(found: LibPeerInfo): void {
    const libp2p = this.libp2p;
    const id = found.id.toString();
    // Before start has finished (the next announcement comes soon), a peer we already talk to or are dialling.
    if (libp2p === null || libp2p.getConnections(found.id).length > 0 || found.multiaddrs.length === 0 || this.mdnsDials.has(id)) return;
    this.opts.log("info", `discovered peer ${id} by mDNS; connecting`, { peerId: id });
    this.mdnsDials.add(id);
    libp2p
      .dial(found.multiaddrs)
      .catch((err: unknown) => {
        this.opts.log("info", `cannot reach peer ${id} found by mDNS: ${(err as Error).message}`, { peerId: id });
      })
      .finally(() => this.mdnsDials.delete(id));
  }

  async stop(): Promise<void> {
    await this.starting;
    const libp2p = this.libp2p;
    if (libp2p === null) return;
    this.staticPeers.stop();
    this.unsubscribeDocument?.();
    this.unsubscribeDocument = null;
    this.libp2p = null;
    await Promise.all([...this.channels.values()].map((c) => c.close("this peer is stopping")));
    await libp2p.stop();
    this.opts.log("info", `peer ${this.peerId} stopped`, { peerId: this.peerId });
  }

  async disconnectAll(): Promise<void> {
    const libp2p = this.libp2p;
    if (libp2p === null) return;
    await Promise.all(libp2p.getConnections().map((c) => c.close().catch((err: unknown) => c.abort(err as Error))));
  }

  async connect(addr: string): Promise<void> {
    const timeoutMs = this.opts.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS;
    const connection = await this.dial(addr);
    const remote = connection.remotePeer.toString();
    if (!this.upPeers.has(remote)) await this.waitForPeer(connection, addr, timeoutMs);
    this.staticPeers.add(addr, remote);
  }

  private async dial(addr: string): Promise<Connection> {
    const libp2p = this.libp2p;
    if (libp2p === null) throw new NetworkError(`cannot connect to ${addr}: peer ${this.peerId} is stopped`, { addr });
    let ma;
    try {
      ma = multiaddr(addr);
    } catch (err) {
      throw new NetworkError(`"${addr}" is not a multiaddr (expected e.g. /ip4/10.0.0.2/tcp/4101/p2p/<peer id>): ${(err as Error).message}`, { addr });
    }
    try {
      return await libp2p.dial(ma);
    } catch (err) {
      throw new NetworkError(`cannot connect to ${addr}: ${(err as Error).message} (is the peer running, and does it use the same workspace key?)`, {
        addr,
      });
    }
  }

  private waitForPeer(connection: Connection, addr: string, timeoutMs: number): Promise<void> {
    const peerId = connection.remotePeer.toString();
    return new Promise((resolve, reject) => {
      const done = (): void => {
        clearTimeout(timer);
        offUp();
        offError();
        offDown();
        connection.removeEventListener("close", onConnectionClose);
      };
      // Sync errors are reported first (they carry the reason); a bare close means the peer hung up on us.
      const onConnectionClose = (): void => {
        setTimeout(() => {
          if (this.upPeers.has(peerId)) return;
          // Both sides dialled: this connection was the duplicate one retired, and the
          // conversation goes on over the other (peer:up or the timeout settles the wait).
          if (this.libp2p?.getConnections(connection.remotePeer).some((c) => c.status === "open")) return;
          done();
          reject(
            new NetworkError(`${addr} closed the connection before sync started (is this peer on its allow-list? is it stopping?)`, {
              addr,
              peerId,
            }),
          );
        }, 50);
      };
      connection.addEventListener("close", onConnectionClose);
      const timer = setTimeout(() => {
        done();
        reject(new Timeout(`connected to ${addr} but its sync conversation did not start within ${timeoutMs} ms`, { addr, peerId }));
      }, timeoutMs);
      const offUp = this.events.on("peer:up", (p) => {
        if (p.peerId !== peerId) return;
        done();
        resolve();
      });
      const offError = this.events.on("sync:error", (e) => {
        if (e.peerId !== peerId) return;
        done();
        reject(new NetworkError(`sync with ${addr} refused: ${e.message}`, { addr, peerId, code: e.code }));
      });
      const offDown = this.events.on("peer:down", (e) => {
        if (e.peerId !== peerId) return;
        done();
        reject(new NetworkError(`sync with ${addr} ended before it started: ${e.reason}`, { addr, peerId }));
      });
    });
  }

  private async openSyncStream(connection: Connection): Promise<void> {
    let stream: Stream;
    try {
      stream = await connection.newStream(SYNC_PROTOCOL_ID);
    } catch (err) {
      if (connection.status !== "open") return;
      const peerId = connection.remotePeer.toString();
      this.opts.log("warn", `peer ${peerId} at ${connection.remoteAddr.toString()} does not speak ${SYNC_PROTOCOL_ID}: ${(err as Error).message}`, {
        peerId,
      });
      return;
    }
    this.attach(stream, connection);
  }

  /** Registers a conversation; when both sides dialled at once, the stream opened by the lower peer id wins on both. */
  private attach(stream: Stream, connection: Connection): void {
    if (this.libp2p === null) {
      stream.abort(new Error("peer is stopping"));
      return;
    }
    const remote = connection.remotePeer.toString();
    const opener = stream.direction === "outbound" ? this.peerId : remote;
    const existing = this.channels.get(remote);
    const contested = existing !== undefined && !existing.isEnded;
    const channel = new SyncChannel({
      stream,
      connection,
      localPeerId: this.peerId,
      localName: this.opts.name,
      ...(this.opts.modules ? { localModules: this.opts.modules } : {}),
      document: this.document,
      limits: this.limits,
      log: this.opts.log,
      // The store sees one session per peer at a time: a replacement waits for the old one to close.
      after: contested ? existing.closed : undefined,
      onUp: (c) => this.onChannelUp(c),
      onError: (c, refusal, remote) => this.onChannelError(c, refusal, remote),
      onClosed: (c, reason) => this.onChannelClosed(c, reason),
    });
    if (contested && existing.openerPeerId < opener) {
      channel.start();
      void channel.close("duplicate conversation with the same peer", { code: "Duplicate", message: "duplicate sync conversation" });
      this.retireConnection(channel, connection, existing.connection);
      return;
    }
    if (contested) {
      void existing.close("replaced by a newer conversation with the same peer");
      this.retireConnection(existing, existing.connection, connection);
    }
    this.channels.set(remote, channel);
    channel.start();
  }

  /**
   * When both peers dialled each other, the losing conversation's connection would stay open and
   * idle beside the winner's: its dialler closes it once that conversation has ended (one TCP
   * connection per pair; the peer stays connected through the other, so nothing is redialled).
   */
  private retireConnection(loser: SyncChannel, connection: Connection, winner: Connection): void {
    if (connection === winner || connection.direction !== "outbound") return;
    void loser.closed.then(() => {
      if (connection.status !== "open" || winner.status !== "open") return;
      for (const c of this.channels.values()) if (c.connection === connection) return;
      connection.close().catch((err: unknown) => connection.abort(err as Error));
    });
  }

  private onChannelUp(channel: SyncChannel): void {
    if (this.channels.get(channel.remotePeerId) !== channel) return;
    const info = channel.info();
    this.opts.log("info", `syncing with peer ${info.peerId} at ${info.remoteAddr}`, { peerId: info.peerId, direction: info.direction });
    if (this.upPeers.has(info.peerId)) return;
    this.upPeers.add(info.peerId);
    this.events.emit("peer:up", info);
  }

  private onChannelError(channel: SyncChannel, refusal: Refusal, remote: boolean): void {
    if (refusal.code === "Duplicate") return;
    this.events.emit("sync:error", {
      peerId: channel.remotePeerId,
      remoteAddr: channel.remoteAddr,
      code: refusal.code,
      message: refusal.message,
      remote,
    });
  }

  private onChannelClosed(channel: SyncChannel, reason: string): void {
    if (this.channels.get(channel.remotePeerId) !== channel) return;
    this.channels.delete(channel.remotePeerId);
    if (this.upPeers.delete(channel.remotePeerId)) {
      this.opts.log("info", `stopped syncing with peer ${channel.remotePeerId}: ${reason}`, { peerId: channel.remotePeerId, reason });
      this.events.emit("peer:down", { peerId: channel.remotePeerId, reason });
    }
    // Another connection to the same peer may still be open without a conversation (both dialled at once).
    const libp2p = this.libp2p;
    if (libp2p === null) return;
    const spare = libp2p
      .getConnections()
      .find((c) => c.remotePeer.toString() === channel.remotePeerId && c.status === "open" && c.direction === "outbound");
    if (spare !== undefined && !this.channels.has(channel.remotePeerId)) void this.openSyncStream(spare);
  }
}

function peerIdOf(key: PrivateKey): string {
  return peerIdFromPrivateKey(key).toString();
}
