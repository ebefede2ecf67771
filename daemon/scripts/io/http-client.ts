/**
 * One HTTP(S) request on behalf of a script: bounded in time (whole exchange) and in body
 * size, with connection failures as NetworkError and deadlines as Timeout.
 */
import http from "node:http";
import https from "node:https";
import { InvalidOperation, NetworkError, Timeout } from "../../crdt/vocabulary.ts";
import { headersForLua } from "./http-headers.ts";

export interface HttpClientRequest {
  method: string;
  url: string;
  headers: Record<string, string>;
  body: string | null;
  timeoutMs: number;
  maxBodyBytes: number;
}

export interface HttpClientResponse {
  status: number;
  headers: { [k: string]: string };
  body: string;
}

const REASONS: Record<string, string> = {
  ECONNREFUSED: "connection refused (nothing listens there)",
  ENOTFOUND: "host name not found",
  EAI_AGAIN: "host name lookup failed (DNS unreachable?)",
  ECONNRESET: "connection reset by the server",
  EHOSTUNREACH: "host unreachable",
  ENETUNREACH: "network unreachable",
  ETIMEDOUT: "connection timed out",
};

export function httpFetch(r: HttpClientRequest): Promise<HttpClientResponse> {
  let url: URL;
  try {
    url = new URL(r.url);
  } catch {
    return Promise.reject(new InvalidOperation(`http.${r.method.toLowerCase()}: ${JSON.stringify(r.url)} is not a valid URL`, { url: r.url }));
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    return Promise.reject(new InvalidOperation(`http.${r.method.toLowerCase()}: only http:// and https:// URLs are supported, got ${url.protocol}`, { url: r.url }));
  }
  const what = `HTTP ${r.method} ${r.url}`;
  const lib = url.protocol === "https:" ? https : http;
  return new Promise((resolve, reject) => {
    let settled = false;
    const finish = (e: Error | null, v?: HttpClientResponse): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (e) {
        req.destroy();
        reject(e);
      } else resolve(v as HttpClientResponse);
    };
    const headers = { ...r.headers };
    const req = lib.request(url, { method: r.method, headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on("data", (c: Buffer) => {
        size += c.length;
        if (size > r.maxBodyBytes) {
          finish(new NetworkError(`${what}: response body exceeds ${r.maxBodyBytes} bytes (raise the max_body option if it is expected)`, { url: r.url, limit: r.maxBodyBytes }));
          return;
        }
        chunks.push(c);
      });
      res.on("end", () => finish(null, { status: res.statusCode ?? 0, headers: headersForLua(res.headers), body: Buffer.concat(chunks).toString("utf8") }));
      res.on("error", (e) => finish(new NetworkError(`${what}: response broke off: ${e.message}`, { url: r.url })));
      res.on("aborted", () => finish(new NetworkError(`${what}: the server closed the connection mid-response`, { url: r.url })));
    });
    const timer = setTimeout(() => finish(new Timeout(`${what}: no complete response within ${r.timeoutMs} ms`, { url: r.url, timeoutMs: r.timeoutMs })), r.timeoutMs);
    req.on("error", (e: NodeJS.ErrnoException) => {
      const reason = (e.code && REASONS[e.code]) ?? e.message;
      finish(new NetworkError(`${what} failed: ${reason}${e.code ? ` (${e.code})` : ""}`, { url: r.url, code: e.code ?? null }));
    });
    if (r.body !== null) req.end(r.body);
    else req.end();
  });
}
