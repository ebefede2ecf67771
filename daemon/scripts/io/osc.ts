/**
 * `osc.*` for scripts (capability `net.osc:<ports>`): UDP listeners that queue every message
 * until the script asks for it, and sending. Raw bindings; the Lua face is in prelude.lua.
 */
import dgram from "node:dgram";
import { InvalidOperation, NetworkError } from "../../crdt/vocabulary.ts";
import { LuaFloat } from "../engine/index.ts";
import type { HostBinding, HostValue } from "../engine/index.ts";
import { Handles } from "./handles.ts";
import { Inbox } from "./inbox.ts";
import type { IoContext, UdpSocket } from "./io-context.ts";
import { decodePacket, encodeMessage } from "./osc-packet.ts";
import { optionsTable, portArg } from "./script-args.ts";

/** A message as handed to Lua (after `socket:recv()`). */
type Delivered = { [k: string]: HostValue };

const DEFAULT_QUEUE = 10_000;
const DEFAULT_BATCH = 256;
const RECV_BUFFER_BYTES = 4 * 1024 * 1024;

class OscSocket {
  constructor(readonly socket: UdpSocket, readonly inbox: Inbox<Delivered>) {}

  close(): Promise<void> {
    this.inbox.close();
    return new Promise((resolve) => {
      try {
        this.socket.close(() => resolve());
      } catch {
        resolve(); // already closed
      }
    });
  }
}

export function oscBindings(ctx: IoContext): Record<string, HostBinding> {
  const handles = new Handles(ctx.signal, (h, e) => ctx.log("warn", `closing ${h} failed: ${String(e)}`, { handle: h }));
  let sender: UdpSocket | null = null;
  ctx.signal.addEventListener("abort", () => {
    sender?.close();
    sender = null;
  }, { once: true });

  const allow = (port: number): void => {
    if (!ctx.capabilities.oscPort(port)) throw ctx.capabilities.denied({ kind: "net.osc", port });
  };

  const listen = async (args: HostValue[]): Promise<HostValue> => {
    const port = portArg(args[0], "osc.listen");
    allow(port);
    const opts = optionsTable(args[1], "osc.listen");
    const host = typeof opts.host === "string" ? opts.host : "0.0.0.0";
    const capacity = typeof opts.queue === "number" && opts.queue > 0 ? Math.floor(opts.queue) : DEFAULT_QUEUE;
    if (handles.closed) throw new InvalidOperation(`osc.listen(${port}): the run has ended`, { port });
    const socket = (ctx.udp ?? dgram).createSocket(host.includes(":") ? "udp6" : "udp4");
    const inbox = new Inbox<Delivered>({
      capacity,
      timer: ctx.timer,
      onOverflow: () => ctx.log("warn", `OSC port ${port}: ${capacity} messages are waiting for recv(); new messages are dropped until the script catches up`, { port }),
      onRecovered: (n) => ctx.log("warn", `OSC port ${port}: dropped ${n} messages while the queue was full`, { port, dropped: n }),
    });
    let malformed = 0;
    socket.on("message", (buf, rinfo) => {
      let msgs;
      try {
        msgs = decodePacket(buf);
      } catch (e) {
        // A console sending garbage must not stop the listener; say what and from whom, rate-limited.
        if (++malformed <= 10 || malformed % 1000 === 0) {
          ctx.log("warn", `OSC port ${port}: dropped a malformed packet of ${buf.length} bytes from ${rinfo.address}:${rinfo.port}: ${(e as Error).message}`, {
            port, from: `${rinfo.address}:${rinfo.port}`, bytes: buf.length, head: buf.subarray(0, 16).toString("hex"), malformed,
          });
        }
        return;
      }
      for (const m of msgs) {
        inbox.push({ path: m.path, types: m.types, args: m.args, address: rinfo.address, port: rinfo.port, time_tag: m.timeTag === null ? null : new LuaFloat(m.timeTag) });
      }
    });
    await new Promise<void>((resolve, reject) => {
      socket.once("error", (e: NodeJS.ErrnoException) => {
        socket.close();
        const why = e.code === "EADDRINUSE" ? "is already in use (another program or listener has it)" : e.code === "EACCES" ? "may not be opened by this user" : `cannot be opened (${e.code ?? e.message})`;
        reject(new NetworkError(`osc.listen: UDP port ${port} on ${host} ${why}`, { port, host, code: e.code ?? null }));
      });
      socket.bind(port, host, () => resolve());
    });
    socket.on("error", (e) => ctx.log("error", `OSC port ${port}: socket error: ${e.message}`, { port }));
    try {
      socket.setRecvBufferSize(RECV_BUFFER_BYTES);
    } catch {
      // the OS cap (net.core.rmem_max) wins; the queue still protects against slow scripts
    }
    const handle = handles.add("osc", new OscSocket(socket, inbox));
    if (handles.closed) await handles.close(handle);
    ctx.log("info", `OSC listening on ${host}:${port}`, { port, host, handle });
    return { handle, port, host };
  };

  const recv = async (args: HostValue[]): Promise<HostValue> => {
    const s = handles.get(args[0], OscSocket, "osc socket: recv");
    const max = typeof args[1] === "number" && args[1] > 0 ? Math.floor(args[1]) : DEFAULT_BATCH;
    const timeout = typeof args[2] === "number" && args[2] >= 0 ? args[2] : undefined;
    if (s.inbox.size === 0) ctx.waiting?.();
    const batch = await s.inbox.take(max, timeout);
    if (batch === null) return null;
    for (const m of batch) ctx.record({ kind: "osc.message", data: plain(m) });
    return batch;
  };

  const send = async (args: HostValue[]): Promise<HostValue> => {
    const [host, portV, path, list] = args;
    if (typeof host !== "string" || host === "") throw new InvalidOperation(`osc.send: host must be a non-empty string, got ${JSON.stringify(host ?? null)}`, {});
    const port = portArg(portV, "osc.send");
    allow(port);
    const buf = encodeMessage(path as string, argList(list));
    if (handles.closed) throw new InvalidOperation(`osc.send to ${host}:${port}: the run has ended`, { host, port });
    if (!sender) {
      sender = (ctx.udp ?? dgram).createSocket(host.includes(":") ? "udp6" : "udp4");
      sender.on("error", (e) => ctx.log("warn", `OSC send socket error: ${e.message}`));
      sender.unref();
    }
    const s = sender;
    await new Promise<void>((resolve, reject) => {
      s.send(buf, port, host, (e) => (e ? reject(new NetworkError(`osc.send ${String(path)} to ${host}:${port} failed: ${e.message}`, { host, port, path: String(path) })) : resolve()));
    });
    return null;
  };

  return {
    "osc.listen": { kind: "async", fn: listen },
    "osc.send": { kind: "async", fn: send },
    "osc.__recv": { kind: "async", fn: recv },
    "osc.__close": { kind: "sync", fn: async (args) => (await handles.close(String(args[0])), null) },
  };
}

/** The argument list as sent from Lua: an array, or a table with holes (nil arguments). */
function argList(v: HostValue | undefined): HostValue[] {
  if (v === null || v === undefined) return [];
  if (Array.isArray(v)) return v;
  if (typeof v === "object" && !(v instanceof LuaFloat)) {
    const keys = Object.keys(v);
    if (keys.every((k) => /^[1-9]\d*$/.test(k))) {
      const n = Math.max(0, ...keys.map(Number));
      return Array.from({ length: n }, (_, i) => v[String(i + 1)] ?? null);
    }
  }
  throw new InvalidOperation(`osc.send: arguments must be a list like { 42, "go" }, got ${typeof v === "object" ? "a table with named keys" : typeof v}`, {});
}

/** The record keeps plain JSON numbers (LuaFloat is a transport detail). */
function plain(v: HostValue): unknown {
  if (v instanceof LuaFloat) return v.value;
  if (Array.isArray(v)) return v.map(plain);
  if (v !== null && typeof v === "object") return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, plain(x)]));
  return v;
}
