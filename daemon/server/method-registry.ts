/**
 * The socket's methods, by name. The core methods register here, and so do
 * services plugged in later (scripts.*, sessions.*, triggers.*,
 * dialog.respond, capabilities.revoke): each brings its params check and
 * its handler, and gets the calling connection's context.
 */
import type { Actor } from "../crdt/operations.ts";
import type { EventType } from "../../protocol/events.ts";
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

export type Handler<P, R> = (params: P, ctx: CallContext) => R | Promise<R>;

interface Entry {
  check: Check<unknown>;
  handler: Handler<unknown, unknown>;
}

export class MethodRegistry {
  private readonly methods = new Map<string, Entry>();

  register<P, R>(name: string, check: Check<P>, handler: Handler<P, R>): void {
    if (this.methods.has(name)) throw new Error(`socket method ${name} is registered twice`);
    this.methods.set(name, { check, handler: handler as Handler<unknown, unknown> });
  }

  get(name: string): Entry | undefined {
    return this.methods.get(name);
  }

  names(): string[] {
    return [...this.methods.keys()].sort();
  }
}
