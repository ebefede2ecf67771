/**
 * A small typed client for the daemon's socket: `connect(showDir)`, then
 * `request(method, params)` and `subscribe(handler)`. It loads nothing but
 * node:net, so a CLI command that talks to a running daemon starts fast.
 */
import net from "node:net";
import { DaemonNotRunning, RPC_CODES, RpcError } from "./errors.ts";
import type { WireErrorData } from "./errors.ts";
import type { DaemonEvent, EventNotification, EventType } from "./events.ts";
import { LineSplitter, MAX_MESSAGE_BYTES } from "./line-splitter.ts";
import type { MethodName, ParamsOf, ResultOf } from "./methods.ts";
import { socketPath } from "./socket-path.ts";

export interface ConnectOptions {
  /** Client name: bundles written through this connection carry actor {kind:"app", name}. */
  name?: string;
  /** The person using the client: bundles it writes then carry actor {kind:"user", name: user}. */
  user?: string;
  /** Give up connecting after this long (default 5 s). */
  timeoutMs?: number;
}

export interface Subscription {
  readonly id: string;
  unsubscribe(): Promise<void>;
}

export interface Client {
  readonly socketPath: string;
  request<M extends MethodName>(method: M, ...params: Record<string, never> extends ParamsOf<M> ? [ParamsOf<M>?] : [ParamsOf<M>]): Promise<ResultOf<M>>;
  /** Untyped call, for methods added by services this client was not built with. */
  call(method: string, params?: unknown): Promise<unknown>;
  /** Starts a stream of events; `handler` sees each one in order. */
  subscribe(handler: (event: DaemonEvent) => void, events?: EventType[]): Promise<Subscription>;
  /** Called once when the connection ends (daemon stopped, close()). */
  onClose(listener: (reason: string) => void): void;
  close(): void;
}

interface Pending {
  resolve(v: unknown): void;
  reject(e: Error): void;
}

export function connect(showDir: string, opts: ConnectOptions = {}): Promise<Client> {
  const file = socketPath(showDir);
  return new Promise((resolve, reject) => {
    const sock = net.createConnection(file);
    const timer = setTimeout(() => {
      sock.destroy();
      reject(new DaemonNotRunning(file, showDir, `no answer within ${opts.timeoutMs ?? 5000} ms`));
    }, opts.timeoutMs ?? 5000);
    sock.once("error", (e: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      const reason = e.code === "ENOENT" ? "no socket" : e.code === "ECONNREFUSED" ? "socket refuses connections (stale)" : e.message;
      reject(new DaemonNotRunning(file, showDir, reason));
    });
    sock.once("connect", () => {
      clearTimeout(timer);
      sock.removeAllListeners("error");
      const client = new SocketClient(sock, file);
      if (opts.name === undefined) return resolve(client);
      client.request("hello", opts.user === undefined ? { name: opts.name } : { name: opts.name, user: opts.user }).then(
        () => resolve(client),
        (e: unknown) => {
          client.close();
          reject(e as Error);
        },
      );
    });
  });
}

class SocketClient implements Client {
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private readonly handlers = new Map<string, (e: DaemonEvent) => void>();
  private readonly early = new Map<string, DaemonEvent[]>();
  private readonly closeListeners: ((reason: string) => void)[] = [];
  private ended: string | null = null;

  constructor(
    private readonly sock: net.Socket,
    readonly socketPath: string,
  ) {
    const splitter = new LineSplitter(
      MAX_MESSAGE_BYTES * 4,
      (line) => this.onLine(line),
      () => this.end("the daemon sent an oversized message"),
    );
    sock.on("data", (chunk: Buffer) => splitter.push(chunk));
    sock.on("error", (e) => this.end(e.message));
    sock.on("close", () => this.end("the daemon closed the connection"));
  }

  request<M extends MethodName>(method: M, ...params: [ParamsOf<M>?]): Promise<ResultOf<M>> {
    return this.call(method, params[0] ?? {}) as Promise<ResultOf<M>>;
  }

  call(method: string, params: unknown = {}): Promise<unknown> {
    if (this.ended !== null) {
      return Promise.reject(new RpcError(RPC_CODES.InternalError, { type: "NetworkError", message: `connection closed: ${this.ended}`, details: {} }));
    }
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.sock.write(JSON.stringify({ jsonrpc: "2.0", id, method, params }) + "\n");
    });
  }

  async subscribe(handler: (event: DaemonEvent) => void, events?: EventType[]): Promise<Subscription> {
    const { subscription } = await this.request("subscribe", events ? { events } : {});
    this.handlers.set(subscription, handler);
    for (const e of this.early.get(subscription) ?? []) handler(e);
    this.early.delete(subscription);
    return {
      id: subscription,
      unsubscribe: async () => {
        this.handlers.delete(subscription);
        if (this.ended === null) await this.request("unsubscribe", { subscription });
      },
    };
  }

  onClose(listener: (reason: string) => void): void {
    if (this.ended !== null) listener(this.ended);
    else this.closeListeners.push(listener);
  }

  close(): void {
    this.end("closed by the client");
    this.sock.destroy();
  }

  private onLine(line: string): void {
    if (line.trim() === "") return;
    let msg: { id?: unknown; result?: unknown; error?: { code: number; message: string; data?: WireErrorData }; method?: string; params?: unknown };
    try {
      msg = JSON.parse(line) as typeof msg;
    } catch {
      return;
    }
    if (msg.method === "event") {
      const n = msg.params as EventNotification;
      const handler = this.handlers.get(n.subscription);
      // Events can arrive before the subscribe response has been handled.
      if (handler) handler(n.event);
      else this.early.set(n.subscription, [...(this.early.get(n.subscription) ?? []), n.event]);
      return;
    }
    if (typeof msg.id !== "number") return;
    const p = this.pending.get(msg.id);
    if (!p) return;
    this.pending.delete(msg.id);
    if (msg.error) {
      const data = msg.error.data ?? { type: "InternalError", message: msg.error.message, details: {} };
      p.reject(new RpcError(msg.error.code, data));
    } else p.resolve(msg.result);
  }

  private end(reason: string): void {
    if (this.ended !== null) return;
    this.ended = reason;
    for (const p of this.pending.values()) {
      p.reject(new RpcError(RPC_CODES.InternalError, { type: "NetworkError", message: `connection to the daemon lost: ${reason}`, details: {} }));
    }
    this.pending.clear();
    for (const l of this.closeListeners) l(reason);
  }
}
