/**
 * Outgoing HTTP of scripts, answered by the test: `sim.http.respond(pattern, response)` says
 * what a request to matching URLs gets, `sim.http.requests()` what was asked. The real client
 * is never used; a request nothing answers fails as a refused connection would.
 */
import { InvalidOperation, NetworkError } from "../../crdt/index.ts";
import type { HttpClientRequest, HttpClientResponse } from "../../scripts/io/index.ts";

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

/** `*` matches any run of characters; everything else is literal; the whole URL must match. */
function globRegExp(pattern: string): RegExp {
  return new RegExp(`^${pattern.split("*").map((p) => p.replace(/[.+?^${}()|[\]\\]/g, "\\$&")).join(".*")}$`);
}

export class SimHttp {
  /** `sleep` is the test's virtual time, for responses that take a while. */
  constructor(private readonly sleep: (ms: number, runId: string) => Promise<void>) {}

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
    if (hit.response.delayMs > 0) await this.sleep(hit.response.delayMs, runId);
    return { status: hit.response.status, headers, body: hit.response.body };
  }

  requests(): SeenRequest[] {
    return this.seen.map((s) => ({ ...s }));
  }
}
