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
import { RPC_CODES } from "../../protocol/errors.ts";
import { LineSplitter, MAX_MESSAGE_BYTES } from "../../protocol/line-splitter.ts";
import type { EventType } from "../../protocol/events.ts";
import type { Actor } from "../crdt/operations.ts";
import type { EventHub } from "./event-hub.ts";
import type { CallContext, MethodRegistry } from "./method-registry.ts";
import { protocolError, toWireError } from "./wire-error.ts";
import type { WireError } from "./wire-error.ts";
import type { Logger } from "./logger.ts";
import { MAX_REQUEST_NESTING, nestedDeeperThan } from "./nesting.ts";

export interface RpcServerOptions {
  path: string;
  methods: MethodRegistry;
  events: EventHub;
  log: Logger;
  maxMessageBytes?: number;
  /** A subscriber that lets this much output pile up unread is disconnected (default 64 MiB). */
  maxBufferedBytes?: number;
}

type RequestId = string | number | null;

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
    if (this.inFlight.size > 0) {
      await Promise.race([Promise.allSettled([...this.inFlight]), new Promise((r) => setTimeout(r, graceMs).unref())]);
    }
    for (const s of this.sockets) s.end();
    const hard = setTimeout(() => {
      for (const s of this.sockets) s.destroy();
    }, 500);
    hard.unref();
    await closed;
    clearTimeout(hard);
  }

  private accept(sock: net.Socket): void {
    const n = this.nextConnection++;
    const connection = `c${n}`;
    const subs = new Map<string, () => void>();
    let nextSub = 1;
    let name = `socket-client-${n}`;
    let user: string | null = null;
    const maxBuffered = this.opts.maxBufferedBytes ?? 64 * 1024 * 1024;
    this.sockets.add(sock);

    const send = (msg: unknown): void => {
      if (sock.destroyed || !sock.writable) return;
      if (sock.writableLength > maxBuffered) {
        this.opts.log.warn(`dropping socket client ${name}: it stopped reading (${sock.writableLength} bytes unread)`, { connection });
        sock.destroy();
        return;
      }
      let text: string;
      try {
        text = JSON.stringify(msg);
      } catch (e) {
        // A reply that cannot be written (a cycle, a value too deep) must not take the daemon down.
        this.opts.log.error(`cannot send a reply to socket client ${name}: ${(e as Error).message}`, { connection });
        const id = typeof msg === "object" && msg !== null && "id" in msg ? (msg as { id: RequestId }).id : null;
        const message = `the reply could not be encoded: ${(e as Error).message}`;
        text = JSON.stringify({ jsonrpc: "2.0", id, error: { code: RPC_CODES.InternalError, message, data: { type: "InternalError", message, details: {} } } });
      }
      sock.write(text + "\n");
    };
    const reply = (id: RequestId, result: unknown): void => send({ jsonrpc: "2.0", id, result });
    const fail = (id: RequestId, err: WireError): void => send({ jsonrpc: "2.0", id, error: err });

    const ctx: CallContext = {
      connection,
      get clientName() {
        return name;
      },
      get actor(): Actor {
        return user === null ? { kind: "app", name } : { kind: "user", name: user };
      },
      setClientName: (v) => (name = v),
      setUser: (v) => (user = v),
      subscribe: (types: readonly EventType[] | null) => {
        const id = `s${nextSub++}`;
        subs.set(
          id,
          this.opts.events.subscribe((event) => send({ jsonrpc: "2.0", method: "event", params: { subscription: id, event } }), types),
        );
        return id;
      },
      unsubscribe: (id) => {
        const off = subs.get(id);
        if (!off) return false;
        off();
        subs.delete(id);
        return true;
      },
    };

    // This connection's requests still running: a half-closed client is answered before its end.
    const pending = new Set<Promise<unknown>>();
    const splitter = new LineSplitter(
      this.opts.maxMessageBytes ?? MAX_MESSAGE_BYTES,
      (line) => {
        const run = this.onLine(line, ctx, reply, fail);
        if (run === null) return;
        pending.add(run);
        void run.finally(() => pending.delete(run)).catch(() => undefined);
      },
      (bytes) =>
        fail(
          null,
          protocolError(RPC_CODES.InvalidRequest, `message too large: more than ${this.opts.maxMessageBytes ?? MAX_MESSAGE_BYTES} bytes (${bytes} so far) without a newline; it is skipped up to its newline`, {
            limit: this.opts.maxMessageBytes ?? MAX_MESSAGE_BYTES,
          }),
        ),
    );
    sock.on("data", (chunk: Buffer) => splitter.push(chunk));
    sock.on("end", () => {
      splitter.end();
      void Promise.allSettled([...pending]).then(() => sock.end());
    });
    sock.on("error", (e) => this.opts.log.debug(`socket client ${name}: ${e.message}`, { connection }));
    sock.on("close", () => {
      for (const off of subs.values()) off();
      subs.clear();
      this.sockets.delete(sock);
    });
  }

  private onLine(
    line: string,
    ctx: CallContext,
    reply: (id: RequestId, result: unknown) => void,
    fail: (id: RequestId, err: WireError) => void,
  ): Promise<unknown> | null {
    if (line.trim() === "") return null;
    let msg: unknown;
    try {
      msg = JSON.parse(line);
    } catch (e) {
      const snippet = line.length > 80 ? line.slice(0, 80) + "…" : line;
      fail(null, protocolError(RPC_CODES.ParseError, `not JSON: ${(e as Error).message} in ${JSON.stringify(snippet)}`, { line: snippet }));
      return null;
    }
    // The message itself is one level; its params get the rest.
    if (nestedDeeperThan(msg, MAX_REQUEST_NESTING + 1)) {
      const id = typeof msg === "object" && msg !== null && "id" in msg && (typeof msg.id === "string" || typeof msg.id === "number") ? msg.id : null;
      fail(id, protocolError(RPC_CODES.InvalidRequest, `request nested more than ${MAX_REQUEST_NESTING} levels deep (lists and objects inside one another); it is refused`, { limit: MAX_REQUEST_NESTING }));
      return null;
    }
    if (typeof msg !== "object" || msg === null || Array.isArray(msg)) {
      fail(null, protocolError(RPC_CODES.InvalidRequest, "a request must be one JSON object per line (batches are not supported)"));
      return null;
    }
    const req = msg as { jsonrpc?: unknown; id?: unknown; method?: unknown; params?: unknown };
    const hasId = "id" in req;
    const id: RequestId = typeof req.id === "string" || typeof req.id === "number" ? req.id : null;
    if (req.jsonrpc !== "2.0" || typeof req.method !== "string" || (hasId && req.id !== null && id === null)) {
      fail(id, protocolError(RPC_CODES.InvalidRequest, `not a JSON-RPC 2.0 request: need "jsonrpc":"2.0", a string "method" and a number or string "id"`));
      return null;
    }
    const method = req.method;
    const entry = this.opts.methods.get(method);
    if (!entry) {
      fail(id, protocolError(RPC_CODES.MethodNotFound, `unknown method "${method}" (known: ${this.opts.methods.names().join(", ")})`, { method }));
      return null;
    }
    if (this.stopping) {
      const message = `${method}: the daemon is shutting down; retry when it is back`;
      fail(id, { code: RPC_CODES.NetworkError, message, data: { type: "NetworkError", message, details: { method } } });
      return null;
    }
    const run = (async () => entry.handler(entry.check(req.params, "params"), ctx))();
    this.inFlight.add(run);
    run.then(
      (result) => {
        if (hasId) reply(id, result ?? null);
      },
      (e: unknown) => {
        const wire = toWireError(e, method);
        if (wire.data.type === "InternalError") this.opts.log.error(wire.message, { method, stack: e instanceof Error ? e.stack : undefined });
        if (hasId) fail(id, wire);
      },
    );
    void run.finally(() => this.inFlight.delete(run)).catch(() => undefined);
    return run;
  }
}
