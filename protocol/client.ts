/**
 * A small typed client for the daemon's socket: `connect(showDir)`, then
 * `request(method, params)` and `subscribe(handler)`. It loads nothing but
 * node:net, so a CLI command that talks to a running daemon starts fast.
 */
import net from "node:net";
import { DaemonNotRunning } from "./errors.ts";
import { LineSplitter, MAX_MESSAGE_BYTES } from "./line-splitter.ts";
import { RpcChannel } from "./rpc-channel.ts";
import type { Client } from "./rpc-channel.ts";
import { socketPath } from "./socket-path.ts";

export type { Client, Subscription } from "./rpc-channel.ts";

export interface ConnectOptions {
  /** Client name: bundles written through this connection carry actor {kind:"app", name}. */
  name?: string;
  /** The person using the client: bundles it writes then carry actor {kind:"user", name: user}. */
  user?: string;
  /** Give up connecting after this long (default 5 s). */
  timeoutMs?: number;
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
      const client = socketClient(sock, file);
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

function socketClient(sock: net.Socket, file: string): RpcChannel {
  const channel = new RpcChannel(
    file,
    (text) => sock.write(text + "\n"),
    () => sock.destroy(),
  );
  const splitter = new LineSplitter(
    MAX_MESSAGE_BYTES * 4,
    (line) => channel.receive(line),
    () => channel.end("the daemon sent an oversized message"),
  );
  sock.on("data", (chunk: Buffer) => splitter.push(chunk));
  sock.on("error", (e) => channel.end(e.message));
  sock.on("close", () => channel.end("the daemon closed the connection"));
  return channel;
}
