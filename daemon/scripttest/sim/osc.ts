/**
 * UDP as the osc module sees it, in memory: scripts' listeners bind ports of this network,
 * `sim.osc.send` delivers packets to them, and what scripts send is kept for `sim.osc.sent()`
 * (and reaches a script listening on that port, like loopback). No socket is opened.
 */
import { InvalidOperation } from "../../crdt/index.ts";
import type { HostValue } from "../../scripts/engine/index.ts";
import { decodePacket, encodeMessage } from "../../scripts/io/index.ts";
import type { UdpSocket } from "../../scripts/io/index.ts";

/** Where simulated messages come from, as a listener sees it. */
export const SIM_OSC_FROM = { address: "127.0.0.1", port: 9000 };

export interface SentOsc {
  host: string;
  port: number;
  path: string;
  args: HostValue[];
}

type Listener = (buf: Buffer, from: { address: string; port: number }) => void;

class SimSocket implements UdpSocket {
  private readonly onMessage: Listener[] = [];
  port: number | null = null;
  constructor(private readonly net: SimOsc, readonly runId: string) {}
  on(ev: "message" | "error", cb: Listener | ((e: Error) => void)): this {
    if (ev === "message") this.onMessage.push(cb as Listener);
    return this;
  }
  once(): this {
    return this;
  }
  bind(port: number, _host: string, cb: () => void): this {
    const taken = this.net.bound.get(port);
    if (taken) {
      // As the OS says it: the listener gets EADDRINUSE through its error listener.
      throw new InvalidOperation(`osc.listen: UDP port ${port} is already in use (simulated network; a run of this test listens on it)`, { port });
    }
    this.port = port;
    this.net.bound.set(port, this);
    queueMicrotask(cb);
    return this;
  }
  close(cb?: () => void): this {
    if (this.port !== null && this.net.bound.get(this.port) === this) this.net.bound.delete(this.port);
    this.port = null;
    if (cb) queueMicrotask(cb);
    return this;
  }
  send(buf: Buffer, port: number, host: string, cb: (e: Error | null) => void): this {
    this.net.sentBy(buf, port, host);
    queueMicrotask(() => cb(null));
    return this;
  }
  setRecvBufferSize(): void {}
  unref(): this {
    return this;
  }
  deliver(buf: Buffer, from: { address: string; port: number }): void {
    for (const f of this.onMessage) f(buf, from);
  }
}

export class SimOsc {
  readonly bound = new Map<number, SimSocket>();
  private readonly out: SentOsc[] = [];

  /** The UDP seam of one run. */
  socketsFor(runId: string): { createSocket(type: "udp4" | "udp6"): UdpSocket } {
    return { createSocket: () => new SimSocket(this, runId) };
  }

  sentBy(buf: Buffer, port: number, host: string): void {
    for (const m of decodePacket(buf)) this.out.push({ host, port, path: m.path, args: m.args });
    const to = this.bound.get(port);
    if (to && (host === "127.0.0.1" || host === "localhost")) to.deliver(buf, SIM_OSC_FROM);
  }

  /** Delivers one message to the script listening on `port`; returns that script's run id. */
  send(port: number, path: string, args: HostValue[]): string {
    const to = this.bound.get(port);
    if (!to) {
      const ports = [...this.bound.keys()].sort((a, b) => a - b);
      throw new InvalidOperation(`sim.osc.send: no script listens on OSC port ${port} (listening: ${ports.join(", ") || "none"}; start the listener with script.start first)`, { port });
    }
    to.deliver(encodeMessage(path, args), SIM_OSC_FROM);
    return to.runId;
  }

  sent(): SentOsc[] {
    return [...this.out];
  }
}
