/**
 * The local socket: JSON-RPC 2.0, one message per line, on
 * `<show>/.openprod/daemon.sock` (mode 0600). Every connection is independent;
 * a bad message gets an error reply and the connection stays usable; a client
 * that vanishes mid-stream only loses its own subscriptions. A client that
 * half-closes (sends its last request, then shuts its writing side) still gets
 * every answer; the daemon closes its side once they are sent.
 */
import fs from "node:fs";
import net from "node:net";
import { isMainThread } from "node:worker_threads";
import { RPC_CODES } from "../../protocol/index.ts";
import { LineSplitter, MAX_MESSAGE_BYTES } from "../../protocol/index.ts";
import type { EventHub } from "./event-hub.ts";
import type { MethodRegistry } from "./method-registry.ts";
import { drain, trackIn } from "./drain.ts";
import { openRpcConnection } from "./rpc-connection.ts";
import { protocolError } from "./wire-error.ts";
import type { Logger } from "./logger.ts";

export interface RpcServerOptions {
  path: string;
  methods: MethodRegistry;
  events: EventHub;
  log: Logger;
  maxMessageBytes?: number;
  /** A subscriber that lets this much output pile up unread is disconnected (default 64 MiB). */
  maxBufferedBytes?: number;
}

export class RpcServer {
  private readonly server: net.Server;
  private readonly sockets = new Set<net.Socket>();
  private readonly inFlight = new Set<Promise<unknown>>();
  private nextConnection = 1;
  private stopping = false;

  private constructor(private readonly opts: RpcServerOptions) {
    this.server = net.createServer({ allowHalfOpen: true }, (sock) => this.accept(sock));
  }

  /**
   * Listens on `opts.path`; a leftover socket file must already be gone (the caller holds the show's lock).
   * The caller puts the socket in a private (0700) directory, which alone keeps others out; the socket
   * file is also born owner-only, whatever the umask, so no moment exists where its mode lets others in.
   */
  static async listen(opts: RpcServerOptions): Promise<RpcServer> {
    const s = new RpcServer(opts);
    await new Promise<void>((resolve, reject) => {
      s.server.once("error", reject);
      // Node binds synchronously inside listen(), so the umask is narrowed for exactly that bind.
      // (A worker thread cannot change it; there the private directory alone keeps others out.)
      const umask = isMainThread ? process.umask(0o077) : null;
      try {
        s.server.listen(opts.path, () => {
          s.server.off("error", reject);
          resolve();
        });
      } finally {
        if (umask !== null) process.umask(umask);
      }
    });
    fs.chmodSync(opts.path, 0o600);
    return s;
  }

  get connections(): number {
    return this.sockets.size;
  }

  /**
   * Stop accepting connections and requests, let requests already running
   * finish (up to `graceMs`), then close every connection.
   */
  async close(graceMs: number): Promise<void> {
    this.stopping = true;
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    await drain({ inFlight: this.inFlight, connections: this.sockets, closed, end: (s) => s.end(), destroy: (s) => s.destroy() }, graceMs);
  }

  private accept(sock: net.Socket): void {
    const n = this.nextConnection++;
    const connection = `c${n}`;
    const maxBuffered = this.opts.maxBufferedBytes ?? 64 * 1024 * 1024;
    this.sockets.add(sock);

    const send = (msg: unknown): void => {
      if (sock.destroyed || !sock.writable) return;
      if (sock.writableLength > maxBuffered) {
        this.opts.log.warn(`dropping socket client ${conn.ctx.clientName}: it stopped reading (${sock.writableLength} bytes unread)`, { connection });
        sock.destroy();
        return;
      }
      let text: string;
      try {
        text = JSON.stringify(msg);
      } catch (e) {
        // A reply that cannot be written (a cycle, a value too deep) must not take the daemon down.
        this.opts.log.error(`cannot send a reply to socket client ${conn.ctx.clientName}: ${(e as Error).message}`, { connection });
        const id = typeof msg === "object" && msg !== null && "id" in msg ? (msg as { id: string | number | null }).id : null;
        const message = `the reply could not be encoded: ${(e as Error).message}`;
        text = JSON.stringify({ jsonrpc: "2.0", id, error: { code: RPC_CODES.InternalError, message, data: { type: "InternalError", message, details: {} } } });
      }
      sock.write(text + "\n");
    };
    const conn = openRpcConnection({
      connection,
      name: `socket-client-${n}`,
      methods: this.opts.methods,
      events: this.opts.events,
      log: this.opts.log,
      stopping: () => this.stopping,
      track: trackIn(this.inFlight),
      send: (msg) => send(msg),
    });

    // This connection's requests still running: a half-closed client is answered before its end.
    const pending = new Set<Promise<unknown>>();
    const trackPending = trackIn(pending);
    const limit = this.opts.maxMessageBytes ?? MAX_MESSAGE_BYTES;
    const splitter = new LineSplitter(
      limit,
      (line) => {
        const run = conn.receive(line);
        if (run !== null) trackPending(run);
      },
      (bytes) =>
        send({
          jsonrpc: "2.0",
          id: null,
          error: protocolError(RPC_CODES.InvalidRequest, `message too large: more than ${limit} bytes (${bytes} so far) without a newline; it is skipped up to its newline`, { limit }),
        }),
    );
    sock.on("data", (chunk: Buffer) => splitter.push(chunk));
    sock.on("end", () => {
      splitter.end();
      void Promise.allSettled([...pending]).then(() => sock.end());
    });
    sock.on("error", (e) => this.opts.log.debug(`socket client ${conn.ctx.clientName}: ${e.message}`, { connection }));
    sock.on("close", () => {
      conn.close();
      this.sockets.delete(sock);
    });
  }
}
