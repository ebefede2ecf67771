/**
 * HTTP of scripts in a test, on a simulated network; no socket is opened.
 * - Outgoing: `sim.http.respond(pattern, response)` says what a request to matching URLs
 *   gets, `sim.http.requests()` what was asked; a request nothing answers fails as a refused
 *   connection would, a response slower than the request's timeout is a Timeout.
 * - Incoming: a script's `http.serve(port)` (capability checked as live) binds `port` here,
 *   and `sim.http.request(port, req)` puts a request in its queue and gives back the answer.
 */
import { InvalidOperation, NetworkError, Timeout } from "../../crdt/index.ts";
import type { HostValue } from "../../scripts/engine/index.ts";
import { HttpServer, enqueueRequest, requestInbox, requestView } from "../../scripts/io/index.ts";
import type { HttpClientRequest, HttpClientResponse, HttpServerOptions, PendingRequest, RunTimer, TimerKind } from "../../scripts/io/index.ts";

/** What of the test's virtual clock (VirtualClock) the simulated HTTP counts on. */
export interface SimHttpClock {
  now(): number;
  sleep(ms: number, runId: string): Promise<void>;
  timer(ms: number, runId: string, fn: () => void, kind: TimerKind): () => void;
}

export interface SimResponse {
  status: number;
  body: string;
  headers: Record<string, string>;
  /** Virtual ms the answer takes (a slow server: a core.race timeout can win). */
  delayMs: number;
}

export interface SeenRequest {
  method: string;
  url: string;
  headers: Record<string, string>;
  body: string | null;
}

/** A request the test sends into a script's server. */
export interface SimRequest {
  method: string;
  /** Path with an optional query, e.g. "/go?cue=5". */
  path: string;
  headers: Record<string, string>;
  body: string;
}

/** What the test gets back. */
export interface SimAnswer {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/** One request in flight: its answer, and whether the server's run took it. */
export interface SimExchange {
  /** The run serving the port. */
  runId: string;
  answer: Promise<SimAnswer>;
  readonly answered: boolean;
  /** The virtual time the answer deadline (response_timeout) is due. */
  deadline: number;
}

/** Where simulated requests come from, as the script sees it (req.remote). */
export const SIM_HTTP_FROM = "127.0.0.1";

interface Bound {
  runId: string;
  options: HttpServerOptions;
  server: HttpServer;
  admit: (p: PendingRequest) => void;
}

/** `*` matches any run of characters; everything else is literal; the whole URL must match. */
function globRegExp(pattern: string): RegExp {
  return new RegExp(`^${pattern.split("*").map((p) => p.replace(/[.+?^${}()|[\]\\]/g, "\\$&")).join(".*")}$`);
}

export class SimHttp {
  /** The test's virtual time: slow responses, timeouts and answer deadlines count on it. */
  constructor(private readonly clock: SimHttpClock) {}

  private readonly bound = new Map<number, Bound>();
  /** Runs' next "waiting for input" (an accept() with nothing queued), by run id. */
  private readonly idleWaiters = new Map<string, Set<() => void>>();

  private readonly responders: { pattern: string; re: RegExp; method: string | null; response: SimResponse }[] = [];
  private readonly seen: SeenRequest[] = [];

  /** `pattern`: a URL with `*` wildcards, optionally after a method ("POST https://..."). A later responder wins. */
  respond(pattern: string, response: SimResponse): void {
    const m = /^([A-Z]+)\s+(.+)$/.exec(pattern);
    const url = m ? m[2] : pattern;
    if (!/^https?:\/\//.test(url) && !url.startsWith("*")) {
      throw new InvalidOperation(`sim.http.respond: the pattern must be a URL (http:// or https://, * matches anything), got ${JSON.stringify(pattern)}`, { pattern });
    }
    this.responders.unshift({ pattern, re: globRegExp(url), method: m ? m[1] : null, response });
  }

  /** The outgoing-HTTP seam of one run. */
  fetchFor(runId: string): (r: HttpClientRequest) => Promise<HttpClientResponse> {
    return (r) => this.fetch(r, runId);
  }

  private async fetch(r: HttpClientRequest, runId: string): Promise<HttpClientResponse> {
    this.seen.push({ method: r.method, url: r.url, headers: { ...r.headers }, body: r.body });
    const hit = this.responders.find((x) => x.re.test(r.url) && (x.method === null || x.method === r.method));
    if (!hit) {
      const known = this.responders.map((x) => x.pattern).join(", ") || "none";
      throw new NetworkError(`HTTP ${r.method} ${r.url} failed: no sim.http.respond matches it (responders: ${known}) (simulated network)`, { url: r.url });
    }
    const headers = Object.fromEntries(Object.entries(hit.response.headers).map(([k, v]) => [k.toLowerCase(), v]));
    if (hit.response.delayMs > r.timeoutMs) {
      // As the real client: the whole exchange is bounded by the request's timeout.
      await this.clock.sleep(r.timeoutMs, runId);
      throw new Timeout(`HTTP ${r.method} ${r.url}: no complete response within ${r.timeoutMs} ms (simulated network: the response takes ${hit.response.delayMs} ms)`, { url: r.url, timeoutMs: r.timeoutMs });
    }
    if (hit.response.delayMs > 0) await this.clock.sleep(hit.response.delayMs, runId);
    return { status: hit.response.status, headers, body: hit.response.body };
  }

  /** The timer seam of one run: its recv/accept timeouts and answer deadlines in virtual time. */
  timerFor(runId: string): RunTimer {
    return (ms, fn, kind) => this.clock.timer(ms, runId, fn, kind);
  }

  /** The HTTP-server seam of one run: http.serve binds a port of this network. */
  serverFor(runId: string): (o: HttpServerOptions, admit: (p: PendingRequest) => void) => Promise<HttpServer> {
    return async (o, admit) => {
      const taken = this.bound.get(o.port);
      if (taken) {
        throw new NetworkError(`http.serve: TCP port ${o.port} on ${o.host} is already in use (simulated network; run ${taken.runId} of this test serves it)`, { port: o.port, host: o.host, code: "EADDRINUSE" });
      }
      const server = new HttpServer(o.port, o.host, requestInbox(o), async () => {
        if (this.bound.get(o.port)?.server === server) this.bound.delete(o.port);
      });
      this.bound.set(o.port, { runId, options: o, server, admit });
      return server;
    };
  }

  /** The run waits for input again (the io `waiting` seam): the requests it left unanswered will not be answered now. */
  idle(runId: string): void {
    const set = this.idleWaiters.get(runId);
    this.idleWaiters.delete(runId);
    for (const f of set ?? []) f();
  }

  /** Resolves at the run's next idle(). */
  nextIdle(runId: string): Promise<void> {
    return new Promise((resolve) => {
      let set = this.idleWaiters.get(runId);
      if (!set) this.idleWaiters.set(runId, (set = new Set()));
      set.add(resolve);
    });
  }

  /** Puts `r` in the queue of the script serving `port`, checked and limited as a real server would. */
  request(port: number, r: SimRequest): SimExchange {
    const b = this.bound.get(port);
    if (!b) {
      const ports = [...this.bound.keys()].sort((x, y) => x - y);
      throw new InvalidOperation(`sim.http.request: no script serves HTTP port ${port} (serving: ${ports.join(", ") || "none"}; start the server script with script.start first)`, { port });
    }
    let answered = false;
    let settle: (a: SimAnswer) => void = () => undefined;
    const answer = new Promise<SimAnswer>((resolve) => (settle = resolve));
    const reply = (status: number, body: string, headers: Record<string, string>): void => {
      if (answered) return;
      answered = true;
      settle({ status, body, headers: Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v])) });
    };
    const exchange: SimExchange = {
      runId: b.runId,
      answer,
      get answered() {
        return answered;
      },
      deadline: this.clock.now() + b.options.responseTimeoutMs,
    };
    const size = Buffer.byteLength(r.body);
    if (size > b.options.maxBodyBytes) {
      reply(413, `request body of ${size} bytes exceeds the limit of ${b.options.maxBodyBytes} bytes\n`, { "content-type": "text/plain; charset=utf-8", connection: "close" });
      return exchange;
    }
    const headers: { [k: string]: string } = Object.fromEntries(Object.entries(r.headers).map(([k, v]) => [k.toLowerCase(), v]));
    if (r.body !== "") headers["content-length"] ??= String(size);
    const view: { [k: string]: HostValue } = requestView({ method: r.method, url: r.path, headers, body: r.body, remote: SIM_HTTP_FROM });
    enqueueRequest(b.options, b.server.inbox, b.admit, view, reply);
    return exchange;
  }

  /** Ports scripts of this test serve. */
  serving(): number[] {
    return [...this.bound.keys()].sort((x, y) => x - y);
  }

  requests(): SeenRequest[] {
    return this.seen.map((s) => ({ ...s }));
  }
}
