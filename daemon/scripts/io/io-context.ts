/**
 * What a show I/O module needs from the run it serves: the run's capabilities, a log, the run
 * record for external inputs, the run's end, and the MIDI seam. Nothing else reaches in.
 */
import type { CapabilitySet } from "../capabilities/index.ts";
import type { FsSeams } from "../fs/index.ts";
import type { HttpClientRequest, HttpClientResponse } from "./http-client.ts";
import type { HttpServer, HttpServerOptions, PendingRequest } from "./http-server.ts";
import type { MidiPort } from "./midi-port.ts";
import type { RunTimer } from "./run-timer.ts";

export type IoLogLevel = "debug" | "info" | "warn" | "error";

/** The part of a node:dgram socket the osc module uses. */
export interface UdpSocket {
  on(ev: "message", cb: (buf: Buffer, from: { address: string; port: number }) => void): unknown;
  on(ev: "error", cb: (e: Error) => void): unknown;
  once(ev: "error", cb: (e: NodeJS.ErrnoException) => void): unknown;
  bind(port: number, host: string, cb: () => void): unknown;
  close(cb?: () => void): unknown;
  send(buf: Buffer, port: number, host: string, cb: (e: Error | null) => void): unknown;
  setRecvBufferSize(bytes: number): void;
  unref(): unknown;
}

/**
 * Where the modules reach the world; each absent one is the real thing. openprod test gives
 * simulated ones so a test touches no network.
 */
export interface IoSeams {
  /** UDP sockets for osc (default node:dgram). */
  udp?: { createSocket(type: "udp4" | "udp6"): UdpSocket };
  /** Outgoing HTTP requests (default the real client, httpFetch). */
  fetch?: (r: HttpClientRequest) => Promise<HttpClientResponse>;
  /**
   * Where http.serve gets its server once the capability check passed (default a real TCP
   * listener, HttpServer.start); `admit` must see every request before it is queued.
   */
  httpServer?: (o: HttpServerOptions, admit: (p: PendingRequest) => void) => Promise<HttpServer>;
  /** File changes fs.watch hears of (default the disk, watched); used by the fs module. */
  fs?: FsSeams;
  /** The clock of recv/accept timeouts and HTTP answer deadlines (default real time). */
  timer?: RunTimer;
  /** A recv() of the run found nothing queued and waits for input: the run went quiet. */
  waiting?: () => void;
}

export interface IoContext extends IoSeams {
  /** The grant in force at this moment (read on every call: a revocation is felt at once). */
  readonly capabilities: CapabilitySet;
  runId: string;
  log: (level: IoLogLevel, msg: string, fields?: Record<string, unknown>) => void;
  /** Every external input (message received, request received, response received) goes here. */
  record: (input: { kind: string; data: unknown }) => void;
  /** Aborted when the run ends or is cancelled: every socket, server and port is closed then. */
  signal: AbortSignal;
  midi: MidiPort;
}
