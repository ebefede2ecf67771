/**
 * Who is on the other end of a loopback TCP connection: the kernel lists every socket with
 * its owner's uid in /proc/net/tcp(6); the client's socket is the one whose local port is the
 * connection's remote port and whose remote port is ours. Linux only: elsewhere null, and the
 * debugger then only takes owner-only Unix-socket connections (openprod debug --stdio).
 */
import fs from "node:fs";
import type { Socket } from "node:net";

export function peerUid(socket: Socket): number | null {
  const remote = socket.remotePort;
  const local = socket.localPort;
  if (remote === undefined || local === undefined) return null;
  const want = (port: number): string => port.toString(16).toUpperCase().padStart(4, "0");
  for (const table of ["/proc/net/tcp", "/proc/net/tcp6"]) {
    let text: string;
    try {
      text = fs.readFileSync(table, "utf8");
    } catch {
      continue;
    }
    for (const line of text.split("\n").slice(1)) {
      const cols = line.trim().split(/\s+/);
      if (cols.length < 8) continue;
      if (cols[1].endsWith(`:${want(remote)}`) && cols[2].endsWith(`:${want(local)}`)) return Number(cols[7]);
    }
  }
  return null;
}
