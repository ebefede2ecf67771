/**
 * The main thread's end of a debugged run's agent channel: requests with replies, the agent's
 * stopped/output events, and the pause signal a running worker reads in its count hook.
 */
import { MessageChannel } from "node:worker_threads";
import type { MessagePort } from "node:worker_threads";
import { DBG_PAUSE, DEBUG_SIGNAL_BYTES, signalAgent } from "../engine/index.ts";
import type { DebugLink, FromAgent, ToAgent } from "../engine/index.ts";
import type { HostValue } from "../engine/index.ts";

type Request = ToAgent extends infer R ? (R extends { id: number } ? Omit<R, "id"> : never) : never;
export type AgentEvent = Exclude<FromAgent, { t: "reply" }>;

/** A request the agent refused (the run is not paused, a frame is gone, an expression failed). */
export class AgentRequestError extends Error {}

export class DebugTarget {
  /** What the engine takes with the run (RunRequest.debug). */
  readonly link: DebugLink;
  private readonly port: MessagePort;
  private readonly signal: Int32Array;
  private readonly pending = new Map<number, { resolve: (v: HostValue) => void; reject: (e: Error) => void }>();
  private nextId = 1;
  private closed = false;

  constructor(private readonly onEvent: (e: AgentEvent) => void) {
    const { port1, port2 } = new MessageChannel();
    const buffer = new SharedArrayBuffer(DEBUG_SIGNAL_BYTES);
    this.link = { port: port2, signal: buffer };
    this.port = port1;
    this.signal = new Int32Array(buffer);
    port1.on("message", (m: FromAgent) => this.receive(m));
    port1.unref();
  }

  request(r: Request): Promise<HostValue> {
    if (this.closed) return Promise.reject(new AgentRequestError("the run has ended"));
    const id = this.nextId++;
    return new Promise<HostValue>((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.port.postMessage({ ...r, id } as ToAgent);
      signalAgent(this.signal);
    });
  }

  /** Stops the run at its next line or count hook, even in a loop that never awaits. */
  pause(): Promise<HostValue> {
    Atomics.store(this.signal, DBG_PAUSE, 1);
    return this.request({ t: "pause" });
  }

  /** The run ended: requests still waiting will never be answered. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const p of this.pending.values()) p.reject(new AgentRequestError("the run has ended"));
    this.pending.clear();
    this.port.close();
  }

  private receive(m: FromAgent): void {
    if (m.t !== "reply") return this.onEvent(m);
    const p = this.pending.get(m.id);
    if (!p) return;
    this.pending.delete(m.id);
    if (m.ok) p.resolve(m.body);
    else p.reject(new AgentRequestError(m.message));
  }
}
