/**
 * One call of a socket method from a command, typed by the protocol's method
 * map: `read` works without a daemon (the store or the show's configuration
 * opened here), `live` needs one. The connection is closed after the call.
 */
import type { MethodName, ParamsArg, ResultOf } from "../../protocol/index.ts";
import type { CommandContext } from "./command.ts";
import { liveConnection, readConnection } from "./connection.ts";
import type { Connection } from "./connection.ts";

export async function withConnection<T>(open: Promise<Connection>, f: (c: Connection) => Promise<T>): Promise<T> {
  const c = await open;
  try {
    return await f(c);
  } finally {
    await c.close();
  }
}

/** A read: from the daemon if one runs, else from the store opened in this process. */
export function read<M extends MethodName>(ctx: CommandContext, method: M, ...params: ParamsArg<M>): Promise<ResultOf<M>> {
  return withConnection(readConnection(ctx), (c) => c.call(method, ...params));
}

/** A call that needs a running daemon (writes, scripts, sessions). */
export function live<M extends MethodName>(ctx: CommandContext, method: M, ...params: ParamsArg<M>): Promise<ResultOf<M>> {
  return withConnection(liveConnection(ctx), (c) => c.call(method, ...params));
}
