/**
 * An HTTP server a script answers request by request. Requests are read whole (bounded in
 * size and time) before the script sees them and wait in a queue for `server:accept()`;
 * a request nobody answers in time gets 504, one still queued at the end 503.
 *
 * What the script sees is the same wherever requests come from: `HttpServer.start` listens
 * on a real TCP port; openprod test makes HttpServers of its simulated network instead
 * (IoSeams.httpServer) with the same queue, limits and deadlines.
 */
import http from "node:http";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { NetworkError } from "../../crdt/vocabulary.ts";
import type { HostValue } from "../engine/index.ts";
import { headersForLua } from "./http-headers.ts";
import { Inbox } from "./inbox.ts";
import { realTimer } from "./run-timer.ts";
import type { RunTimer } from "./run-timer.ts";

export interface HttpServerOptions {
  host: string;
  port: number;
  maxBodyBytes: number;
  /** Deadline for the request line and headers. */
  headersTimeoutMs: number;
  /** Deadline for the whole request, body included (slow clients get 408). */
  requestTimeoutMs: number;
  /** How long the script has to answer before the client gets 504. */
  responseTimeoutMs: number;
  queue: number;
  onLog: (level: "info" | "warn", msg: string, fields?: Record<string, unknown>) => void;
  /** What accept() timeouts and the 504 deadline count on (default real time). */
  timer?: RunTimer;
}

/** Where an answer goes: the client's connection (live) or the test that asked. */
export type HttpReply = (status: number, body: string, headers: Record<string, string>) => void;

/** What a request looks like to the script (`req.method`, `req.path`, `req.params`, ...). */
export function requestView(r: { method: string; url: string; headers: { [k: string]: string }; body: string; remote: string | null }): { [k: string]: HostValue } {
  const url = new URL(r.url, "http://localhost");
  const params: { [k: string]: string } = {};
  for (const [k, v] of url.searchParams) params[k] = v;
  return { method: r.method, path: url.pathname, params, headers: r.headers, body: r.body, remote: r.remote };
}

/** A request read in full, waiting for the script's answer. */
export class PendingRequest {
  answered = false;
  private readonly cancelTimer: () => void;

  constructor(readonly view: { [k: string]: HostValue }, private readonly reply: HttpReply, responseTimeoutMs: number, timer: RunTimer = realTimer) {
    this.cancelTimer = timer(responseTimeoutMs, () => this.fail(504, "the script did not answer in time"), "deadline");
  }

  respond(status: number, body: string, headers: Record<string, string>): void {
    this.answered = true;
    this.cancelTimer();
    this.reply(status, body, { "content-type": "text/plain; charset=utf-8", ...headers });
  }

  fail(status: number, why: string): void {
    if (this.answered) return;
    this.respond(status, `${why}\n`, { connection: "close" });
  }

  close(): void {
    this.fail(503, "the script serving this port stopped");
  }
}

/** The Node connection as an HttpReply. */
function nodeReply(res: ServerResponse): HttpReply {
  return (status, body, headers) => {
    if (res.writableEnded || res.destroyed) return;
    const h: Record<string, string | number> = { ...headers };
    h["content-length"] = Buffer.byteLength(body);
    res.writeHead(status, h);
    res.end(body);
  };
}

/** The queue of one server: accept() reads it; a full one answers 503 (logged once per episode). */
export function requestInbox(o: HttpServerOptions): Inbox<PendingRequest> {
  return new Inbox<PendingRequest>({
    capacity: o.queue,
    timer: o.timer,
    onOverflow: () => o.onLog("warn", `HTTP port ${o.port}: ${o.queue} requests wait for accept(); new ones get 503`, { port: o.port }),
    onRecovered: (n) => o.onLog("warn", `HTTP port ${o.port}: answered ${n} requests with 503 while the queue was full`, { port: o.port, dropped: n }),
  });
}

/** A request read whole: to the script's queue (after `admit` named it), or 503 when that is full. */
export function enqueueRequest(o: HttpServerOptions, inbox: Inbox<PendingRequest>, admit: (p: PendingRequest) => void, view: { [k: string]: HostValue }, reply: HttpReply): PendingRequest {
  const p = new PendingRequest(view, reply, o.responseTimeoutMs, o.timer);
  admit(p);
  if (!inbox.push(p)) p.fail(503, "the script is busy: too many requests are waiting");
  return p;
}

export class HttpServer {
  /** `stop` ends the transport (the listening socket); the queue is closed here. */
  constructor(readonly port: number, readonly host: string, readonly inbox: Inbox<PendingRequest>, private readonly stop: () => Promise<void>) {}

  /** Listens on a real TCP port. */
  static async start(o: HttpServerOptions, admit: (p: PendingRequest) => void): Promise<HttpServer> {
    const inbox = requestInbox(o);
    const server = http.createServer({
      headersTimeout: Math.min(o.headersTimeoutMs, o.requestTimeoutMs),
      requestTimeout: o.requestTimeoutMs,
      // Node enforces both deadlines on this tick; its 30 s default would let slow clients linger.
      connectionsCheckingInterval: Math.max(50, Math.min(1000, Math.floor(Math.min(o.headersTimeoutMs, o.requestTimeoutMs) / 4))),
      keepAliveTimeout: 5000,
    });
    server.on("request", (req: IncomingMessage, res: ServerResponse) => readRequest(o, req, res, inbox, admit));
    server.on("clientError", (e: NodeJS.ErrnoException, socket) => {
      const status = e.code === "ERR_HTTP_REQUEST_TIMEOUT" ? "408 Request Timeout" : e.code === "HPE_HEADER_OVERFLOW" ? "431 Request Header Fields Too Large" : "400 Bad Request";
      if (socket.writable) socket.end(`HTTP/1.1 ${status}\r\nconnection: close\r\n\r\n`);
      else socket.destroy();
    });
    await new Promise<void>((resolve, reject) => {
      server.once("error", (e: NodeJS.ErrnoException) => {
        const why = e.code === "EADDRINUSE" ? "is already in use (another program or server has it)" : e.code === "EACCES" ? "may not be opened by this user" : `cannot be opened (${e.code ?? e.message})`;
        reject(new NetworkError(`http.serve: TCP port ${o.port} on ${o.host} ${why}`, { port: o.port, host: o.host, code: e.code ?? null }));
      });
      server.listen(o.port, o.host, () => resolve());
    });
    server.on("error", (e) => o.onLog("warn", `HTTP port ${o.port}: ${e.message}`, { port: o.port }));
    const addr = server.address() as AddressInfo;
    const stop = (): Promise<void> =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    return new HttpServer(addr.port, o.host, inbox, stop);
  }

  async close(): Promise<void> {
    for (const p of this.inbox.close()) p.close();
    await this.stop();
  }
}

function readRequest(o: HttpServerOptions, req: IncomingMessage, res: ServerResponse, inbox: Inbox<PendingRequest>, admit: (p: PendingRequest) => void): void {
  const reject = (status: number, why: string): void => {
    res.writeHead(status, { "content-type": "text/plain; charset=utf-8", connection: "close" });
    res.end(`${why}\n`);
    // stop reading whatever the client still sends
    req.resume();
  };
  const declared = Number(req.headers["content-length"] ?? 0);
  if (declared > o.maxBodyBytes) {
    reject(413, `request body of ${declared} bytes exceeds the limit of ${o.maxBodyBytes} bytes`);
    return;
  }
  const chunks: Buffer[] = [];
  let size = 0;
  let tooBig = false;
  req.on("data", (c: Buffer) => {
    if (tooBig) return;
    size += c.length;
    if (size > o.maxBodyBytes) {
      tooBig = true;
      chunks.length = 0;
      reject(413, `request body exceeds the limit of ${o.maxBodyBytes} bytes`);
      return;
    }
    chunks.push(c);
  });
  req.on("end", () => {
    if (tooBig || res.writableEnded) return;
    const view = requestView({
      method: req.method ?? "GET",
      url: req.url ?? "/",
      headers: headersForLua(req.headers),
      body: Buffer.concat(chunks).toString("utf8"),
      remote: req.socket.remoteAddress ?? null,
    });
    enqueueRequest(o, inbox, admit, view, nodeReply(res));
  });
}
