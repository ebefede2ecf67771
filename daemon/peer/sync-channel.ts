import type { Connection, Stream } from "@libp2p/interface";
import type { Uint8ArrayList } from "uint8arraylist";
import { isOpenprodError } from "../crdt/vocabulary.ts";
import { encodeFrame, FrameDecoder, FrameKind } from "./frame.ts";
import type { Frame } from "./frame.ts";
import { encodeJson, modulesDifference, parseHello, parseRefusal, SYNC_PROTOCOL_VERSION } from "./hello.ts";
import type { Refusal } from "./hello.ts";
import type { PeerInfo, PeerLog } from "./peer-events.ts";
import type { SyncDocument, SyncSession } from "./sync-document.ts";

export interface SyncChannelLimits {
  /** Largest frame accepted from a peer. */
  maxFrameBytes: number;
  /** A peer silent this long mid-frame, or before its hello, is dropped. */
  frameTimeoutMs: number;
}

export interface SyncChannelInit {
  stream: Stream;
  connection: Connection;
  localPeerId: string;
  /** This peer's name, told in the hello. */
  localName?: string;
  /** This peer's modules (`name@version`), told in the hello and compared with the other side's. */
  localModules?: readonly string[];
  document: SyncDocument;
  limits: SyncChannelLimits;
  log: PeerLog;
  /** Resolves when a previous conversation with the same peer has released its session. */
  after?: Promise<void>;
  onUp(channel: SyncChannel): void;
  onError(channel: SyncChannel, refusal: Refusal, remote: boolean): void;
  onClosed(channel: SyncChannel, reason: string): void;
}

const CLOSE_GRACE_MS = 1000;

/**
 * One sync conversation with one peer over one libp2p stream: hello each
 * way, then Automerge sync messages in both directions until either side
 * goes away. Everything touching the session runs on one promise chain so
 * messages are applied in arrival order and never interleave with generation.
 */
export class SyncChannel {
  readonly remotePeerId: string;
  readonly remoteAddr: string;
  readonly direction: "inbound" | "outbound";
  readonly closed: Promise<void>;

  private readonly decoder: FrameDecoder;
  private work: Promise<void> = Promise.resolve();
  private session: SyncSession | null = null;
  private helloReceived = false;
  private up = false;
  private ended = false;
  private flushQueued = false;
  private stallTimer: NodeJS.Timeout | null = null;
  private since = 0;
  private remoteName: string | null = null;
  private modulesDiffer: string | null = null;
  private bytesIn = 0;
  private bytesOut = 0;
  private messagesIn = 0;
  private messagesOut = 0;
  private lastSyncAt: number | null = null;
  /** When a change arrived that this peer has not been sent yet; null while it has everything. */
  private behindSince: number | null = null;
  private resolveClosed!: () => void;

  constructor(private readonly init: SyncChannelInit) {
    this.remotePeerId = init.connection.remotePeer.toString();
    this.remoteAddr = init.connection.remoteAddr.toString();
    this.direction = init.stream.direction;
    this.decoder = new FrameDecoder(init.limits.maxFrameBytes);
    this.closed = new Promise((resolve) => (this.resolveClosed = resolve));
  }

  /** The transport connection the conversation runs on. */
  get connection(): Connection {
    return this.init.connection;
  }

  get isUp(): boolean {
    return this.up && !this.ended;
  }

  get isEnded(): boolean {
    return this.ended;
  }

  /** The peer id of whoever opened the stream; used to pick one conversation when both sides dial at once. */
  get openerPeerId(): string {
    return this.direction === "outbound" ? this.init.localPeerId : this.remotePeerId;
  }

  info(): PeerInfo {
    return {
      peerId: this.remotePeerId,
      name: this.remoteName,
      remoteAddr: this.remoteAddr,
      direction: this.direction,
      since: this.since,
      syncBytesIn: this.bytesIn,
      syncBytesOut: this.bytesOut,
      syncMessagesIn: this.messagesIn,
      syncMessagesOut: this.messagesOut,
      lastSyncAt: this.lastSyncAt,
      modulesDiffer: this.modulesDiffer,
      behindMs: this.behindSince === null ? 0 : Math.max(0, Date.now() - this.behindSince),
    };
  }

  start(): void {
    const { stream } = this.init;
    stream.addEventListener("message", (evt) => this.onBytes(evt.data));
    stream.addEventListener("remoteCloseWrite", () => this.onRemoteEnd());
    stream.addEventListener("close", (evt) => {
      const why = evt.error != null ? `stream reset: ${evt.error.message}` : "stream closed";
      this.onRemoteEnd(why);
    });
    this.armStallTimer("hello");
    this.send(FrameKind.Hello, encodeJson({ protocol: SYNC_PROTOCOL_VERSION, workspaceId: this.init.document.workspaceId, peerId: this.init.localPeerId, ...(this.init.localName ? { name: this.init.localName } : {}), ...(this.init.localModules ? { modules: [...this.init.localModules].sort() } : {}) }));
  }

  /** The document changed (local bundle or a merge from anyone): tell this peer what it lacks. */
  notifyChange(): void {
    if (this.up && !this.ended && this.behindSince === null) this.behindSince = Date.now();
    if (!this.up || this.ended || this.flushQueued) return;
    this.flushQueued = true;
    this.enqueue(async () => {
      this.flushQueued = false;
      await this.flush();
    });
  }

  /** Ends the conversation quietly (node stopping, or a duplicate conversation lost the tie-break). */
  async close(reason: string, refusal?: Refusal): Promise<void> {
    if (this.ended) return this.closed;
    if (refusal !== undefined) this.trySend(FrameKind.Error, encodeJson(refusal));
    await this.finish(reason, false);
  }

  private onBytes(data: Uint8Array | Uint8ArrayList): void {
    if (this.ended) return;
    let frames: Frame[];
    try {
      frames = this.decoder.push(data);
    } catch (err) {
      this.refuse({ code: "BadFrame", message: `bad frame from peer ${this.remotePeerId} at ${this.remoteAddr}: ${(err as Error).message}` });
      return;
    }
    for (const frame of frames) this.enqueue(() => this.onFrame(frame));
    // Stall = no progress for frameTimeoutMs while a frame is unfinished; each arrival restarts the clock.
    if (this.decoder.midFrame) this.armStallTimer("frame");
    else if (this.helloReceived || frames.length > 0) this.clearStallTimer();
  }

  private onRemoteEnd(why = "peer closed the stream"): void {
    if (this.ended) return;
    if (this.decoder.midFrame) {
      this.reportError(
        { code: "BadFrame", message: `truncated frame from peer ${this.remotePeerId} at ${this.remoteAddr}: stream ended after ${this.decoder.describePartial()}` },
        false,
      );
      void this.finish("truncated frame", true);
      return;
    }
    // Let queued frames (e.g. a refusal just received) be handled before the conversation ends.
    this.enqueue(() => this.finish(why, false));
  }

  private async onFrame(frame: Frame): Promise<void> {
    if (this.ended) return;
    if (!this.helloReceived) {
      if (frame.kind === FrameKind.Error) return this.onRefusal(frame.payload);
      if (frame.kind !== FrameKind.Hello) {
        return this.refuse({ code: "BadFrame", message: `peer ${this.remotePeerId} at ${this.remoteAddr} sent a sync message before its hello` });
      }
      return this.onHello(frame.payload);
    }
    switch (frame.kind) {
      case FrameKind.Error:
        return this.onRefusal(frame.payload);
      case FrameKind.Hello:
        return this.refuse({ code: "BadFrame", message: `peer ${this.remotePeerId} at ${this.remoteAddr} sent a second hello` });
      case FrameKind.Sync:
        return this.onSyncMessage(frame.payload);
    }
  }

  private async onHello(payload: Uint8Array): Promise<void> {
    let hello;
    try {
      hello = parseHello(payload);
    } catch (err) {
      return this.refuse({ code: "BadFrame", message: `bad hello from peer ${this.remotePeerId} at ${this.remoteAddr}: ${(err as Error).message}` });
    }
    const local = this.init.document.workspaceId;
    if (hello.protocol !== SYNC_PROTOCOL_VERSION) {
      return this.refuse({
        code: "ProtocolMismatch",
        message: `peer ${this.remotePeerId} at ${this.remoteAddr} speaks sync protocol version ${hello.protocol}, this peer speaks version ${SYNC_PROTOCOL_VERSION}; update openprod on one of them`,
      });
    }
    if (hello.workspaceId !== local) {
      return this.refuse({
        code: "WorkspaceMismatch",
        message: `peer ${this.remotePeerId} at ${this.remoteAddr} holds workspace "${hello.workspaceId}", this peer holds workspace "${local}"; they cannot sync`,
      });
    }
    if (hello.peerId !== this.remotePeerId) {
      return this.refuse({
        code: "PeerIdMismatch",
        message: `peer at ${this.remoteAddr} authenticated as ${this.remotePeerId} but its hello claims ${hello.peerId}`,
      });
    }
    this.helloReceived = true;
    this.remoteName = hello.name ?? null;
    const differ = this.init.localModules ? modulesDifference(this.init.localModules, hello.modules) : null;
    this.modulesDiffer = differ;
    if (differ !== null) {
      this.init.log("warn", `peer ${this.remoteName ?? this.remotePeerId} runs other modules than this peer: ${differ}; entities of tables only one side declares sync, but that side alone can show them`, {
        peerId: this.remotePeerId,
      });
    }
    if (!this.decoder.midFrame) this.clearStallTimer();
    await this.init.after;
    if (this.ended) return;
    try {
      this.session = await this.init.document.openSyncSession(this.remotePeerId);
    } catch (err) {
      this.init.log("error", `cannot open sync session for peer ${this.remotePeerId}: ${(err as Error).message}`, { peerId: this.remotePeerId });
      return this.finish(`sync session failed to open: ${(err as Error).message}`, true);
    }
    if (this.ended) {
      await this.session.close();
      return;
    }
    this.up = true;
    this.since = Date.now();
    this.init.onUp(this);
    await this.flush();
  }

  private async onSyncMessage(payload: Uint8Array): Promise<void> {
    const session = this.session;
    if (session === null) return;
    this.bytesIn += payload.byteLength;
    this.messagesIn++;
    this.lastSyncAt = Date.now();
    try {
      await session.receiveMessage(payload);
    } catch (err) {
      if (isOpenprodError(err) && err.code === "InvalidOperation") {
        return this.refuse({ code: "BadSyncMessage", message: `undecodable sync message from peer ${this.remotePeerId} at ${this.remoteAddr}: ${err.message}` });
      }
      this.init.log("error", `applying a sync message from peer ${this.remotePeerId} failed: ${(err as Error).message}`, {
        peerId: this.remotePeerId,
      });
      return this.finish(`applying sync message failed: ${(err as Error).message}`, true);
    }
    if (this.ended) return;
    await this.flush();
  }

  private onRefusal(payload: Uint8Array): Promise<void> {
    let refusal: Refusal;
    try {
      refusal = parseRefusal(payload);
    } catch (err) {
      refusal = { code: "BadFrame", message: `peer sent an unreadable error frame: ${(err as Error).message}` };
    }
    this.reportError(refusal, true);
    return this.finish(`refused by peer: ${refusal.message}`, true);
  }

  private async flush(): Promise<void> {
    const session = this.session;
    if (session === null || this.ended) return;
    const msg = session.generateMessage();
    if (msg === null) {
      // Nothing left to tell: the peer has (or is being sent) everything this copy has.
      this.behindSince = null;
      return;
    }
    this.bytesOut += msg.byteLength;
    this.messagesOut++;
    this.lastSyncAt = Date.now();
    await this.send(FrameKind.Sync, msg);
  }

  /** We found the peer at fault: say why on the wire, log it, drop the connection. */
  private refuse(refusal: Refusal): Promise<void> {
    if (this.ended) return Promise.resolve();
    this.reportError(refusal, false);
    this.trySend(FrameKind.Error, encodeJson(refusal));
    return this.finish(refusal.message, true);
  }

  private reportError(refusal: Refusal, remote: boolean): void {
    const msg = remote ? `peer ${this.remotePeerId} refused sync: ${refusal.message}` : refusal.message;
    this.init.log("warn", msg, { peerId: this.remotePeerId, remoteAddr: this.remoteAddr, code: refusal.code, remote });
    this.init.onError(this, refusal, remote);
  }

  private enqueue(task: () => Promise<void>): void {
    this.work = this.work.then(task).catch((err: unknown) => {
      this.init.log("error", `sync with peer ${this.remotePeerId} failed: ${(err as Error).message}`, { peerId: this.remotePeerId });
      return this.finish(`internal error: ${(err as Error).message}`, true);
    });
  }

  private async send(kind: FrameKind, payload: Uint8Array): Promise<void> {
    const { stream } = this.init;
    if (stream.writeStatus !== "writable") return;
    if (!stream.send(encodeFrame(kind, payload))) await stream.onDrain();
  }

  private trySend(kind: FrameKind, payload: Uint8Array): void {
    try {
      void this.send(kind, payload).catch(() => undefined);
    } catch {
      // The stream is already gone; the log line is what remains.
    }
  }

  private armStallTimer(what: "hello" | "frame"): void {
    this.clearStallTimer();
    const ms = this.init.limits.frameTimeoutMs;
    this.stallTimer = setTimeout(() => {
      this.stallTimer = null;
      const message =
        what === "hello" && !this.helloReceived && !this.decoder.midFrame
          ? `peer ${this.remotePeerId} at ${this.remoteAddr} sent no hello within ${ms} ms`
          : `peer ${this.remotePeerId} at ${this.remoteAddr} stalled mid-frame for ${ms} ms (${this.decoder.describePartial()} received)`;
      void this.refuse({ code: "BadFrame", message });
    }, ms);
    this.stallTimer.unref();
  }

  private clearStallTimer(): void {
    if (this.stallTimer !== null) clearTimeout(this.stallTimer);
    this.stallTimer = null;
  }

  /** Idempotent teardown. `dropConnection` closes the whole libp2p connection (peer misbehaved or refused). */
  private async finish(reason: string, dropConnection: boolean): Promise<void> {
    if (this.ended) return;
    this.ended = true;
    this.clearStallTimer();
    const { stream, connection } = this.init;
    const grace = AbortSignal.timeout(CLOSE_GRACE_MS);
    try {
      // close() flushes what we queued (a refusal frame) before the FIN.
      await stream.close({ signal: grace });
    } catch {
      stream.abort(new Error(reason));
    }
    if (dropConnection) {
      try {
        await connection.close({ signal: AbortSignal.timeout(CLOSE_GRACE_MS) });
      } catch (err) {
        connection.abort(err as Error);
      }
    }
    const session = this.session;
    this.session = null;
    if (session !== null) {
      try {
        await session.close();
      } catch (err) {
        this.init.log("error", `closing the sync session for peer ${this.remotePeerId} failed: ${(err as Error).message}`, {
          peerId: this.remotePeerId,
        });
      }
    }
    this.init.onClosed(this, reason);
    this.resolveClosed();
  }
}
