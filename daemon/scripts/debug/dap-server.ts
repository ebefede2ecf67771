/**
 * Where a DAP client reaches a debugging session, and only the show's owner can:
 * - TCP on 127.0.0.1 only (an editor's "debugServer" port), each connection checked to come
 *   from the daemon's own user (peer-uid.ts); anyone else gets an error message and is cut;
 * - a Unix socket inside the show's owner-only `.openprod/` directory, which
 *   `openprod debug --stdio` bridges to an editor that starts the adapter itself.
 */
import fs from "node:fs";
import net from "node:net";
import path from "node:path";
import { DapReader, encodeMessage } from "./dap-framing.ts";
import type { DapConnection, DebugSession } from "./dap-session.ts";
import type { DapMessage } from "./dap-types.ts";
import { peerUid } from "./peer-uid.ts";

export interface DapServerOptions {
  /** TCP port on 127.0.0.1; 0: any free one. */
  port: number;
  /** The Unix socket's path (inside the owner-only `.openprod/`). */
  socketPath: string;
}

export class DapServer {
  private readonly sockets = new Set<net.Socket>();

  private constructor(private readonly tcp: net.Server, private readonly unix: net.Server, readonly port: number, readonly socketPath: string) {}

  static async listen(session: DebugSession, opts: DapServerOptions): Promise<DapServer> {
    const uid = process.getuid?.() ?? null;
    let server: DapServer | null = null;
    const accept = (sock: net.Socket, checked: boolean): void => {
      server?.sockets.add(sock);
      // A response and the event that follows it are small writes: Nagle would hold the second ~40 ms.
      sock.setNoDelay(true);
      sock.on("close", () => server?.sockets.delete(sock));
      sock.on("error", () => undefined);
      if (!checked) {
        const who = peerUid(sock);
        if (who === null || uid === null || who !== uid) {
          refuse(sock, who === null ? "the debugger could not tell which user this connection comes from (no /proc/net/tcp here): use openprod debug --stdio" : `only the show's owner (uid ${String(uid)}) may debug its scripts; this connection is from uid ${who}`);
          return;
        }
      }
      serve(session, sock);
    };
    const tcp = net.createServer((s) => accept(s, false));
    const unix = net.createServer((s) => accept(s, true));
    await listenOn(tcp, () => tcp.listen({ host: "127.0.0.1", port: opts.port }));
    try {
      fs.rmSync(opts.socketPath, { force: true });
      await listenOn(unix, () => unix.listen(opts.socketPath));
      fs.chmodSync(opts.socketPath, 0o600);
    } catch (e) {
      tcp.close();
      throw e;
    }
    const port = (tcp.address() as net.AddressInfo).port;
    server = new DapServer(tcp, unix, port, opts.socketPath);
    return server;
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.end();
    const done = (srv: net.Server): Promise<void> => new Promise((resolve) => srv.close(() => resolve()));
    setTimeout(() => {
      for (const s of this.sockets) s.destroy();
    }, 1000).unref();
    await Promise.all([done(this.tcp), done(this.unix)]);
    fs.rmSync(this.socketPath, { force: true });
  }
}

function listenOn(srv: net.Server, start: () => void): Promise<void> {
  return new Promise((resolve, reject) => {
    srv.once("error", reject);
    srv.once("listening", () => {
      srv.off("error", reject);
      resolve();
    });
    start();
  });
}

function serve(session: DebugSession, sock: net.Socket): void {
  const conn: DapConnection = {
    send: (m: DapMessage) => {
      if (!sock.destroyed) sock.write(encodeMessage(m));
    },
    close: () => sock.end(),
  };
  if (!session.connect(conn)) {
    refuse(sock, "another client is already debugging this run");
    return;
  }
  const reader = new DapReader(
    (m) => session.receive(m),
    (e) => {
      session.protocolError(e.message);
      if (e.recoverable) return;
      // The session is free for the next client at once, not when this socket's close comes in.
      session.disconnected(conn);
      sock.end();
    },
  );
  sock.on("data", (d: Buffer) => reader.push(d));
  sock.on("close", () => session.disconnected(conn));
}

function refuse(sock: net.Socket, why: string): void {
  sock.end(encodeMessage({ seq: 1, type: "event", event: "output", body: { category: "stderr", output: `openprod debug: ${why}\n` } }));
}

/** The Unix socket of debugging session `n` of a show: short, inside `.openprod/`. */
export function sessionSocketPath(showDir: string, n: number): string {
  return path.join(path.resolve(showDir), ".openprod", `dap-${n}.sock`);
}
