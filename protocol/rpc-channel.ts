/**
 * The client side of one JSON-RPC connection, independent of its transport:
 * numbered requests and their replies, event notifications routed to their
 * subscription, and the end of the connection. The Unix socket client
 * (client.ts) and the WebSocket client (ws-client.ts) each wrap one; it
 * imports nothing of Node, so the browser console bundles it too.
 */
import { RPC_CODES, RpcError } from "./errors.ts";
import type { WireErrorData } from "./errors.ts";
import type { DaemonEvent, EventNotification, EventType } from "./events.ts";
import type { MethodName, ParamsArg, ParamsOf, ResultOf } from "./methods.ts";

export interface Subscription {
  readonly id: string;
  unsubscribe(): Promise<void>;
}

export interface Client {
  /** Where it is connected: the socket file, or the console's WebSocket URL. */
  readonly socketPath: string;
  request<M extends MethodName>(method: M, ...params: ParamsArg<M>): Promise<ResultOf<M>>;
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

export class RpcChannel implements Client {
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private readonly handlers = new Map<string, (e: DaemonEvent) => void>();
  private readonly early = new Map<string, DaemonEvent[]>();
  private readonly closeListeners: ((reason: string) => void)[] = [];
  private ended: string | null = null;

  /** `write` sends one message (the transport adds its framing); `hangUp` closes the transport. */
  constructor(
    readonly socketPath: string,
    private readonly write: (text: string) => void,
    private readonly hangUp: () => void,
  ) {}

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
      this.write(JSON.stringify({ jsonrpc: "2.0", id, method, params }));
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
    this.hangUp();
  }

  /** One message from the daemon. */
  receive(text: string): void {
    if (text.trim() === "") return;
    let msg: { id?: unknown; result?: unknown; error?: { code: number; message: string; data?: WireErrorData }; method?: string; params?: unknown };
    try {
      msg = JSON.parse(text) as typeof msg;
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

  /** The transport ended: pending requests fail with `reason`. */
  end(reason: string): void {
    if (this.ended !== null) return;
    this.ended = reason;
    for (const p of this.pending.values()) {
      p.reject(new RpcError(RPC_CODES.InternalError, { type: "NetworkError", message: `connection to the daemon lost: ${reason}`, details: {} }));
    }
    this.pending.clear();
    for (const l of this.closeListeners) l(reason);
  }
}
