/**
 * The web console's HTTP + WebSocket server. It serves the built browser app
 * (every asset from disk: the console works with no internet) and, on
 * `/rpc`, a WebSocket carrying the socket's own JSON-RPC methods and events
 * (one message per frame), through the same connection code as the Unix
 * socket. Access:
 * - the token arrives once in the URL (`/?token=...`), is exchanged for an
 *   HttpOnly SameSite=Strict cookie and dropped from the address bar;
 * - every other request needs that cookie, else 401;
 * - the Host header must name this server (a DNS-rebound name is refused)
 *   and a WebSocket's Origin must be this server (no cross-site use).
 */
import crypto from "node:crypto";
import fs from "node:fs";
import http from "node:http";
import net from "node:net";
import path from "node:path";
import { WebSocketServer } from "ws";
import type { WebSocket } from "ws";
import { MAX_MESSAGE_BYTES } from "../../../protocol/index.ts";
import type { EventHub } from "../event-hub.ts";
import type { Logger } from "../logger.ts";
import type { MethodRegistry } from "../method-registry.ts";
import { drain, trackIn } from "../drain.ts";
import { openRpcConnection } from "../rpc-connection.ts";
import type { ConsoleSettings } from "./console-settings.ts";
import { isLoopback } from "./console-settings.ts";
import { sameToken } from "./console-token.ts";

export interface ConsoleServerOptions {
  settings: ConsoleSettings;
  token: string;
  /** The built app: index.html, app.js, app.css (see daemon/cli/build.ts). */
  assetsDir: string;
  methods: MethodRegistry;
  events: EventHub;
  log: Logger;
  /** A browser that lets this much pile up unread is disconnected (default 64 MiB). */
  maxBufferedBytes?: number;
}

/** People's edits through the console carry actor {kind:"user", name:"console:<name>"}. */
export const CONSOLE_ACTOR_PREFIX = "console:";

const TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".map": "application/json",
};
const ASSET_NAME = /^[A-Za-z0-9_-][A-Za-z0-9._-]*$/;

export class ConsoleServer {
  private readonly server: http.Server;
  private readonly wss: WebSocketServer;
  private readonly sockets = new Set<WebSocket>();
  private readonly inFlight = new Set<Promise<unknown>>();
  private readonly cookieName: string;
  private nextConnection = 1;
  private stopping = false;
  private port = 0;

  private constructor(private readonly opts: ConsoleServerOptions) {
    // Per show (derived from its token), so two shows' consoles on one machine keep separate cookies.
    this.cookieName = `openprod_console_${crypto.createHash("sha256").update(opts.token).digest("hex").slice(0, 12)}`;
    this.server = http.createServer((req, res) => this.onRequest(req, res));
    this.wss = new WebSocketServer({ noServer: true, maxPayload: MAX_MESSAGE_BYTES });
    this.server.on("upgrade", (req: http.IncomingMessage, sock: net.Socket, head: Buffer) => this.onUpgrade(req, sock, head));
  }

  static async listen(opts: ConsoleServerOptions): Promise<ConsoleServer> {
    const s = new ConsoleServer(opts);
    await new Promise<void>((resolve, reject) => {
      s.server.once("error", reject);
      s.server.listen(opts.settings.port, opts.settings.host, () => {
        s.server.off("error", reject);
        resolve();
      });
    });
    s.port = (s.server.address() as net.AddressInfo).port;
    return s;
  }

  /** The console's address, without the token. */
  get url(): string {
    const h = this.opts.settings.host;
    const host = h === "0.0.0.0" || h === "::" ? "127.0.0.1" : net.isIPv6(h) ? `[${h}]` : h;
    return `http://${host}:${this.port}/`;
  }

  /** The address to open once: the token in it becomes the browser's cookie. */
  get urlWithToken(): string {
    return `${this.url}?token=${this.opts.token}`;
  }

  get connections(): number {
    return this.sockets.size;
  }

  async close(graceMs: number): Promise<void> {
    this.stopping = true;
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    await drain(
      { inFlight: this.inFlight, connections: this.sockets, closed, end: (ws) => ws.close(1001, "the daemon is stopping"), destroy: (ws) => ws.terminate() },
      graceMs,
      () => this.server.closeAllConnections(),
    );
  }

  /** The Host header must be one of the names this server answers to; anything else is DNS rebinding or a mistake. */
  private hostAllowed(hostHeader: string | undefined): boolean {
    if (hostHeader === undefined) return false;
    let u: URL;
    try {
      u = new URL(`http://${hostHeader}`);
    } catch {
      return false;
    }
    if (Number(u.port || "80") !== this.port) return false;
    const name = u.hostname.replace(/^\[|\]$/g, "");
    const bound = this.opts.settings.host;
    if (isLoopback(bound)) return isLoopback(name);
    if (bound === "0.0.0.0" || bound === "::") return isLoopback(name) || net.isIP(name) !== 0;
    return name === bound || isLoopback(name);
  }

  private cookieToken(req: http.IncomingMessage): string | undefined {
    for (const part of (req.headers.cookie ?? "").split(";")) {
      const eq = part.indexOf("=");
      if (eq > 0 && part.slice(0, eq).trim() === this.cookieName) return part.slice(eq + 1).trim();
    }
    return undefined;
  }

  private onRequest(req: http.IncomingMessage, res: http.ServerResponse): void {
    const headers = {
      "X-Content-Type-Options": "nosniff",
      "X-Frame-Options": "DENY",
      "Referrer-Policy": "no-referrer",
      "Cache-Control": "no-store",
      "Content-Security-Policy": "default-src 'self'; connect-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; frame-ancestors 'none'",
    };
    const refuse = (status: number, why: string): void => {
      res.writeHead(status, { ...headers, "Content-Type": "text/html; charset=utf-8" });
      res.end(refusalPage(status, why));
    };
    if (!this.hostAllowed(req.headers.host)) return refuse(421, `this console does not answer to the host name ${JSON.stringify(req.headers.host ?? "")}`);
    if (req.method !== "GET" && req.method !== "HEAD") return refuse(405, `${req.method} is not served here`);
    const url = new URL(req.url ?? "/", "http://console.invalid");
    const given = url.searchParams.get("token");
    if (given !== null) {
      if (!sameToken(given, this.opts.token)) return refuse(403, "this link's token is not this show's console token");
      url.searchParams.delete("token");
      res.writeHead(303, {
        ...headers,
        "Set-Cookie": `${this.cookieName}=${this.opts.token}; HttpOnly; SameSite=Strict; Path=/; Max-Age=31536000`,
        Location: url.pathname + url.search,
      });
      res.end();
      return;
    }
    if (!sameToken(this.cookieToken(req), this.opts.token)) return refuse(401, "this browser has not been given the console's token");
    const name = url.pathname === "/" ? "index.html" : url.pathname.slice(1);
    const file = path.join(this.opts.assetsDir, name);
    if (!ASSET_NAME.test(name) || !fs.existsSync(file)) {
      if (name === "index.html") return refuse(500, `the console app is not built (no ${file}); run \`npm run build\``);
      return refuse(404, `no ${url.pathname} here`);
    }
    res.writeHead(200, { ...headers, "Content-Type": TYPES[path.extname(name)] ?? "application/octet-stream" });
    if (req.method === "HEAD") res.end();
    else fs.createReadStream(file).pipe(res);
  }

  private onUpgrade(req: http.IncomingMessage, sock: net.Socket, head: Buffer): void {
    const refuse = (status: number, why: string): void => {
      this.opts.log.warn(`console WebSocket refused: ${why}`, { origin: req.headers.origin, host: req.headers.host });
      sock.end(`HTTP/1.1 ${status} ${http.STATUS_CODES[status]}\r\nConnection: close\r\nContent-Type: text/plain\r\n\r\n${why}\n`);
    };
    const url = new URL(req.url ?? "/", "http://console.invalid");
    if (url.pathname !== "/rpc") return refuse(404, `no WebSocket at ${url.pathname} (the console's is /rpc)`);
    if (!this.hostAllowed(req.headers.host)) return refuse(421, `the host name ${JSON.stringify(req.headers.host ?? "")} is not this console's`);
    if (req.headers.origin !== `http://${req.headers.host}`) return refuse(403, `origin ${JSON.stringify(req.headers.origin ?? "(none)")} is not this console`);
    if (!sameToken(this.cookieToken(req), this.opts.token)) return refuse(401, "no console token: open the URL `openprod console` prints");
    if (this.stopping) return refuse(503, "the daemon is stopping");
    this.wss.handleUpgrade(req, sock, head, (ws) => this.accept(ws));
  }

  private accept(ws: WebSocket): void {
    const connection = `w${this.nextConnection++}`;
    const maxBuffered = this.opts.maxBufferedBytes ?? 64 * 1024 * 1024;
    this.sockets.add(ws);
    const conn = openRpcConnection({
      connection,
      name: `${CONSOLE_ACTOR_PREFIX}anonymous`,
      methods: this.opts.methods,
      events: this.opts.events,
      log: this.opts.log,
      stopping: () => this.stopping,
      track: trackIn(this.inFlight),
      nameOf: (given) => (given.startsWith(CONSOLE_ACTOR_PREFIX) ? given : CONSOLE_ACTOR_PREFIX + given),
      actorOf: (name) => ({ kind: "user", name }),
      send: (msg) => {
        if (ws.readyState !== ws.OPEN) return;
        if (ws.bufferedAmount > maxBuffered) {
          this.opts.log.warn(`dropping console ${conn.ctx.clientName}: it stopped reading (${ws.bufferedAmount} bytes unread)`, { connection });
          ws.terminate();
          return;
        }
        ws.send(JSON.stringify(msg));
      },
    });
    ws.on("message", (data, isBinary) => {
      if (!isBinary) void conn.receive(data.toString());
    });
    ws.on("error", (e) => this.opts.log.debug(`console ${conn.ctx.clientName}: ${e.message}`, { connection }));
    ws.on("close", () => {
      conn.close();
      this.sockets.delete(ws);
    });
  }
}

function refusalPage(status: number, why: string): string {
  const esc = why.replace(/[&<>"]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" })[c] ?? c);
  return `<!doctype html><meta charset="utf-8"><title>openprod console: ${status}</title><body style="background:#111;color:#eee;font:18px system-ui;padding:2em"><h1>${status}: ${http.STATUS_CODES[status] ?? ""}</h1><p>${esc}.</p><p>Open the address that <code>openprod console</code> prints on the show's computer.</p></body>`;
}
