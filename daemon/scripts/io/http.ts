/**
 * `http.*` for scripts: a client (capability `net.http.client`) and servers (capability
 * `net.http.server:<port>`). Raw bindings; the Lua face (server:accept(), req:respond())
 * is in prelude.lua.
 */
import { InvalidOperation } from "../../crdt/vocabulary.ts";
import type { HostBinding, HostValue } from "../engine/index.ts";
import { Handles } from "./handles.ts";
import { httpFetch } from "./http-client.ts";
import { headersFromLua } from "./http-headers.ts";
import { HttpServer, PendingRequest } from "./http-server.ts";
import type { IoContext } from "./io-context.ts";
import { intOption, optionsTable, portArg } from "./script-args.ts";

export const HTTP_DEFAULTS = {
  timeoutMs: 30_000,
  maxBodyBytes: 8 * 1024 * 1024,
  /** Responses a script downloads may be larger than requests it accepts. */
  maxResponseBytes: 64 * 1024 * 1024,
  headersTimeoutMs: 10_000,
  requestTimeoutMs: 30_000,
  responseTimeoutMs: 30_000,
  queue: 1000,
} as const;

const METHODS = new Set(["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]);

export function httpBindings(ctx: IoContext): Record<string, HostBinding> {
  const handles = new Handles(ctx.signal, (h, e) => ctx.log("warn", `closing ${h} failed: ${String(e)}`, { handle: h }));

  const request = (fixed: string | null) => async (args: HostValue[]): Promise<HostValue> => {
    const call = `http.${fixed?.toLowerCase() ?? "request"}`;
    if (!ctx.capabilities.has("net.http.client")) throw ctx.capabilities.denied({ kind: "net.http.client" });
    const url = args[0];
    if (typeof url !== "string") throw new InvalidOperation(`${call}: the URL must be a string, got ${JSON.stringify(url ?? null)}`, {});
    const opts = optionsTable(args[1], call);
    const method = (fixed ?? (typeof opts.method === "string" ? opts.method : "GET")).toUpperCase();
    if (!METHODS.has(method)) throw new InvalidOperation(`${call}: unknown method ${JSON.stringify(opts.method)} (use one of ${[...METHODS].join(", ")})`, { method });
    const body = opts.body;
    if (body !== null && body !== undefined && typeof body !== "string") throw new InvalidOperation(`${call}: body must be a string (use json.encode for tables), got ${typeof body}`, {});
    if (handles.closed) throw new InvalidOperation(`${call} ${url}: the run has ended`, { url });
    const res = await (ctx.fetch ?? httpFetch)({
      method,
      url,
      headers: headersFromLua(opts.headers, call),
      body: body ?? null,
      timeoutMs: intOption(opts, "timeout", HTTP_DEFAULTS.timeoutMs, call),
      maxBodyBytes: intOption(opts, "max_body", HTTP_DEFAULTS.maxResponseBytes, call),
    });
    ctx.record({ kind: "http.response", data: { method, url, ...res } });
    return { status: res.status, headers: res.headers, body: res.body };
  };

  const serve = async (args: HostValue[]): Promise<HostValue> => {
    const port = portArg(args[0], "http.serve");
    if (!ctx.capabilities.httpServerPort(port)) throw ctx.capabilities.denied({ kind: "net.http.server", port });
    const opts = optionsTable(args[1], "http.serve");
    if (handles.closed) throw new InvalidOperation(`http.serve(${port}): the run has ended`, { port });
    const server = await (ctx.httpServer ?? HttpServer.start)(
      {
        host: typeof opts.host === "string" ? opts.host : "127.0.0.1",
        port,
        maxBodyBytes: intOption(opts, "max_body", HTTP_DEFAULTS.maxBodyBytes, "http.serve"),
        headersTimeoutMs: intOption(opts, "headers_timeout", HTTP_DEFAULTS.headersTimeoutMs, "http.serve"),
        requestTimeoutMs: intOption(opts, "request_timeout", HTTP_DEFAULTS.requestTimeoutMs, "http.serve"),
        responseTimeoutMs: intOption(opts, "response_timeout", HTTP_DEFAULTS.responseTimeoutMs, "http.serve"),
        queue: intOption(opts, "queue", HTTP_DEFAULTS.queue, "http.serve"),
        onLog: (level, msg, fields) => ctx.log(level, msg, fields),
        timer: ctx.timer,
      },
      (p) => void (p.view.handle = handles.add("http-req", p)),
    );
    const handle = handles.add("http-server", server);
    if (handles.closed) await handles.close(handle);
    ctx.log("info", `HTTP serving on ${server.host}:${server.port}`, { port, host: server.host, handle });
    return { handle, port: server.port, host: server.host };
  };

  const accept = async (args: HostValue[]): Promise<HostValue> => {
    const server = handles.get(args[0], HttpServer, "HTTP server: accept");
    const max = typeof args[1] === "number" && args[1] > 0 ? Math.floor(args[1]) : 64;
    const timeout = typeof args[2] === "number" && args[2] >= 0 ? args[2] : undefined;
    if (server.inbox.size === 0) ctx.waiting?.();
    const batch = await server.inbox.take(max, timeout);
    if (batch === null) return null;
    const out: HostValue[] = [];
    for (const p of batch) {
      if (p.answered) continue; // timed out (504) while queued
      ctx.record({ kind: "http.request", data: { port: server.port, ...p.view } });
      out.push(p.view);
    }
    return out;
  };

  const respond = async (args: HostValue[]): Promise<HostValue> => {
    const [handle, statusV, bodyV, headersV] = args;
    const p = handles.get(handle, PendingRequest, "HTTP request: respond");
    const status = statusV ?? 200;
    if (typeof status !== "number" || !Number.isInteger(status) || status < 100 || status > 599) {
      throw new InvalidOperation(`req:respond: status must be an integer 100-599, got ${JSON.stringify(status)}`, { status: typeof status === "number" ? status : null });
    }
    if (bodyV !== null && bodyV !== undefined && typeof bodyV !== "string") throw new InvalidOperation(`req:respond: body must be a string (use json.encode for tables), got ${typeof bodyV}`, {});
    const headers = headersFromLua(headersV, "req:respond");
    if (p.answered) {
      await handles.close(String(handle));
      throw new InvalidOperation(`req:respond: ${String(p.view.method)} ${String(p.view.path)} was already answered (the client got 504 after waiting too long)`, { handle: String(handle) });
    }
    p.respond(status, bodyV ?? "", headers);
    await handles.close(String(handle));
    return null;
  };

  return {
    "http.get": { kind: "async", fn: request("GET") },
    "http.post": { kind: "async", fn: request("POST") },
    "http.put": { kind: "async", fn: request("PUT") },
    "http.delete": { kind: "async", fn: request("DELETE") },
    "http.request": { kind: "async", fn: request(null) },
    "http.serve": { kind: "async", fn: serve },
    "http.__accept": { kind: "async", fn: accept },
    "http.__respond": { kind: "sync", fn: respond },
    "http.__close": { kind: "sync", fn: async (args) => (await handles.close(String(args[0])), null) },
  };
}
