/**
 * The socket's methods, by name. The core methods register here, and so do
 * services plugged in later (scripts.*, sessions.*, triggers.*,
 * dialog.respond, capabilities.revoke): each brings its params check and
 * its handler, and gets the calling connection's context.
 *
 * The registry is typed by the protocol's method map: a method the map does
 * not name, a check that yields other params, or a handler that returns
 * another result fails `tsc` (tests/method-registry-types.ts shows each).
 */
import type { Actor } from "../crdt/vocabulary.ts";
import type { EventType, MethodName, ParamsOf, ResultOf } from "../../protocol/index.ts";
import type { Check } from "./params.ts";

/** What a handler knows about the connection that called it. */
export interface CallContext {
  /** Connection id, stable for the connection's life. */
  readonly connection: string;
  /** The client's name (from `hello`, else "socket-client-<n>"). */
  readonly clientName: string;
  /** Actor for bundles written on behalf of this connection. */
  readonly actor: Actor;
  setClientName(name: string): void;
  /** Names the person behind the client: the actor becomes {kind:"user", name}. */
  setUser(name: string): void;
  /** Starts a subscription on this connection; returns its id. */
  subscribe(types: readonly EventType[] | null): string;
  unsubscribe(id: string): boolean;
}

/** What serves method `M`: its params as the protocol types them in, its result as the protocol types it out. */
export type Handler<M extends MethodName> = (params: ParamsOf<M>, ctx: CallContext) => ResultOf<M> | Promise<ResultOf<M>>;

/** A method as the connection calls it: by name from the wire, params not yet checked. */
interface Entry {
  check: Check<unknown>;
  handler: (params: unknown, ctx: CallContext) => unknown;
}

export class MethodRegistry {
  private readonly methods = new Map<string, Entry>();

  /** `check` turns the wire's params into `ParamsOf<M>` (or throws InvalidParams); only then is `handler` called. */
  register<M extends MethodName>(name: M, check: Check<ParamsOf<M>>, handler: Handler<M>): void {
    if (this.methods.has(name)) throw new Error(`socket method ${name} is registered twice`);
    // The one place types are erased: the connection looks methods up by the name a client sent.
    this.methods.set(name, { check, handler: handler as (params: unknown, ctx: CallContext) => unknown });
  }

  /**
   * Serves one call in this process (the CLI's offline reads), params checked as the socket
   * checks them. The result is `ResultOf<M>` because `register` only took a handler returning it.
   */
  async call<M extends MethodName>(name: M, params: unknown, ctx: CallContext): Promise<ResultOf<M>> {
    const entry = this.methods.get(name);
    if (!entry) throw new Error(`socket method ${name} is not registered here`);
    return (await entry.handler(entry.check(params ?? {}, "params"), ctx)) as ResultOf<M>;
  }

  has(name: string): boolean {
    return this.methods.has(name);
  }

  get(name: string): Entry | undefined {
    return this.methods.get(name);
  }

  names(): string[] {
    return [...this.methods.keys()].sort();
  }
}
