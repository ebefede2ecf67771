/**
 * The same client over the web console's WebSocket: one JSON-RPC message per
 * text frame. The browser's WebSocket is used by default; Node code (tests,
 * benchmarks) passes the `ws` package's class. Imports nothing of Node.
 */
import { RPC_CODES, RpcError } from "./errors.ts";
import { RpcChannel } from "./rpc-channel.ts";
import type { Client } from "./rpc-channel.ts";

/** What this client needs of a WebSocket: the browser's and the `ws` package's both fit. */
export interface WebSocketLike {
  readonly readyState: number;
  send(data: string): void;
  close(code?: number, reason?: string): void;
  onopen: ((ev: unknown) => void) | null;
  onclose: ((ev: { code: number; reason: string }) => void) | null;
  onerror: ((ev: unknown) => void) | null;
  onmessage: ((ev: { data: unknown }) => void) | null;
}

export type WebSocketConstructor = new (url: string, options?: { headers?: Record<string, string> }) => WebSocketLike;

export interface WebSocketConnectOptions {
  /** The person's or app's name; on the console it becomes actor `console:<name>`. */
  name?: string;
  timeoutMs?: number;
  /** Default: the global WebSocket (a browser's). */
  WebSocket?: WebSocketConstructor;
  /** Extra handshake headers (Node only: Cookie, Origin). */
  headers?: Record<string, string>;
}

export function connectWebSocket(url: string, opts: WebSocketConnectOptions = {}): Promise<Client> {
  const Ctor = opts.WebSocket ?? (globalThis as { WebSocket?: WebSocketConstructor }).WebSocket;
  if (!Ctor) return Promise.reject(unreachable(url, "this environment has no WebSocket"));
  const timeoutMs = opts.timeoutMs ?? 5000;
  return new Promise((resolve, reject) => {
    const ws = opts.headers ? new Ctor(url, { headers: opts.headers }) : new Ctor(url);
    let open = false;
    const channel = new RpcChannel(
      url,
      (text) => ws.send(text),
      () => ws.close(1000, "closed by the client"),
    );
    const timer = setTimeout(() => {
      ws.close();
      reject(unreachable(url, `no answer within ${timeoutMs} ms`));
    }, timeoutMs);
    ws.onmessage = (ev) => {
      if (typeof ev.data === "string") channel.receive(ev.data);
      else if (ev.data !== null && typeof ev.data === "object" && "toString" in ev.data) channel.receive(String(ev.data));
    };
    ws.onerror = () => undefined;
    ws.onclose = (ev) => {
      clearTimeout(timer);
      const reason = ev.reason || `the console connection closed (code ${ev.code})`;
      if (!open) reject(unreachable(url, reason));
      channel.end(reason);
    };
    ws.onopen = () => {
      open = true;
      clearTimeout(timer);
      if (opts.name === undefined) return resolve(channel);
      channel.request("hello", { name: opts.name }).then(
        () => resolve(channel),
        (e: unknown) => {
          channel.close();
          reject(e as Error);
        },
      );
    };
  });
}

function unreachable(url: string, reason: string): RpcError {
  const message = `cannot reach the openprod console at ${url}: ${reason}`;
  return new RpcError(RPC_CODES.NetworkError, { type: "NetworkError", message, details: { url } });
}
