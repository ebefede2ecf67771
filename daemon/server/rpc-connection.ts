/**
 * One client connection's JSON-RPC side, whatever carries its messages (a
 * line of the Unix socket, a WebSocket frame): parse, validate, dispatch to
 * the method registry with the connection's context, reply, and fan events
 * out to its subscriptions. The socket server and the console server both
 * build their connections with it, so the two speak exactly one protocol.
 */
import { RPC_CODES } from "../../protocol/index.ts";
import type { EventType } from "../../protocol/index.ts";
import type { Actor } from "../crdt/vocabulary.ts";
import type { EventHub } from "./event-hub.ts";
import type { CallContext, MethodRegistry } from "./method-registry.ts";
import { protocolError, toWireError } from "./wire-error.ts";
import type { WireError } from "./wire-error.ts";
import type { Logger } from "./logger.ts";
import { MAX_REQUEST_NESTING, nestedDeeperThan } from "./nesting.ts";

export interface RpcConnectionOptions {
  /** Connection id, stable for the connection's life (`c3`, `w1`). */
  connection: string;
  /** Name before the client says `hello`. */
  name: string;
  methods: MethodRegistry;
  events: EventHub;
  log: Logger;
  /** Writes one JSON-RPC message to the client (the transport frames it). */
  send(msg: unknown): void;
  /** True once the server stops taking requests. */
  stopping(): boolean;
  /** Told of each running request, so the server can wait for them at shutdown. */
  track(run: Promise<unknown>): void;
  /** The name a `hello` gives becomes this (default: as given). */
  nameOf?(given: string): string;
  /** Actor of the bundles this connection writes (default {kind:"app", name}). */
  actorOf?(name: string): Actor;
}

export interface RpcConnection {
  readonly ctx: CallContext;
  /** One message as received (a line, a frame); the request it started, if any (answered when it settles). */
  receive(text: string): Promise<unknown> | null;
  /** Ends the connection's subscriptions. */
  close(): void;
}

type RequestId = string | number | null;

export function openRpcConnection(opts: RpcConnectionOptions): RpcConnection {
  const subs = new Map<string, () => void>();
  let nextSub = 1;
  let name = opts.name;
  /** The person a `hello` named: their edits carry actor user:<name>. */
  let user: string | null = null;
  const actorOf = opts.actorOf ?? ((n: string): Actor => ({ kind: "app", name: n }));
  const reply = (id: RequestId, result: unknown): void => opts.send({ jsonrpc: "2.0", id, result });
  const fail = (id: RequestId, err: WireError): void => opts.send({ jsonrpc: "2.0", id, error: err });

  const ctx: CallContext = {
    connection: opts.connection,
    get clientName() {
      return name;
    },
    get actor(): Actor {
      return user === null ? actorOf(name) : { kind: "user", name: user };
    },
    setClientName: (v) => (name = opts.nameOf ? opts.nameOf(v) : v),
    setUser: (v) => (user = v),
    subscribe: (types: readonly EventType[] | null) => {
      const id = `s${nextSub++}`;
      subs.set(
        id,
        opts.events.subscribe((event) => opts.send({ jsonrpc: "2.0", method: "event", params: { subscription: id, event } }), types),
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

  const receive = (text: string): Promise<unknown> | null => {
    if (text.trim() === "") return null;
    let msg: unknown;
    try {
      msg = JSON.parse(text);
    } catch (e) {
      const snippet = text.length > 80 ? text.slice(0, 80) + "…" : text;
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
      fail(null, protocolError(RPC_CODES.InvalidRequest, "a request must be one JSON object per message (batches are not supported)"));
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
    const entry = opts.methods.get(method);
    if (!entry) {
      fail(id, protocolError(RPC_CODES.MethodNotFound, `unknown method "${method}" (known: ${opts.methods.names().join(", ")})`, { method }));
      return null;
    }
    if (opts.stopping()) {
      const message = `${method}: the daemon is shutting down; retry when it is back`;
      fail(id, { code: RPC_CODES.NetworkError, message, data: { type: "NetworkError", message, details: { method } } });
      return null;
    }
    const run = (async () => entry.handler(entry.check(req.params, "params"), ctx))();
    opts.track(run);
    run.then(
      (result) => {
        if (hasId) reply(id, result ?? null);
      },
      (e: unknown) => {
        const wire = toWireError(e, method);
        if (wire.data.type === "InternalError") opts.log.error(wire.message, { method, stack: e instanceof Error ? e.stack : undefined });
        if (hasId) fail(id, wire);
      },
    );
    return run;
  };

  return {
    ctx,
    receive,
    close: () => {
      for (const off of subs.values()) off();
      subs.clear();
    },
  };
}
