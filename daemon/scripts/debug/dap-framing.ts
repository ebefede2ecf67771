/**
 * DAP's wire framing: `Content-Length: <n>\r\n\r\n` then n bytes of JSON. The reader reports
 * a malformed header or body as a DapFramingError naming what was wrong; after a bad header
 * the stream cannot be trusted again, after a bad body (valid length) it can go on.
 */
import type { DapMessage } from "./dap-types.ts";

const MAX_BODY = 16 * 1024 * 1024;
const MAX_HEADER = 1024;
const SEPARATOR = Buffer.from("\r\n\r\n");

export class DapFramingError extends Error {
  readonly code = "InvalidOperation";
  /** false: the stream is out of step and must be closed. */
  constructor(message: string, readonly recoverable: boolean) {
    super(message);
  }
}

export function encodeMessage(m: DapMessage): Buffer {
  const body = Buffer.from(JSON.stringify(m), "utf8");
  return Buffer.concat([Buffer.from(`Content-Length: ${body.length}\r\n\r\n`, "ascii"), body]);
}

export class DapReader {
  private buf: Buffer = Buffer.alloc(0);
  private broken = false;

  constructor(private readonly onMessage: (m: DapMessage) => void, private readonly onError: (e: DapFramingError) => void) {}

  push(chunk: Buffer): void {
    if (this.broken) return;
    this.buf = this.buf.length === 0 ? chunk : Buffer.concat([this.buf, chunk]);
    for (;;) {
      const end = this.buf.indexOf(SEPARATOR);
      if (end < 0) {
        if (this.buf.length > MAX_HEADER) this.fail(`malformed DAP framing: no "\\r\\n\\r\\n" after ${MAX_HEADER} bytes of header (expected "Content-Length: <n>\\r\\n\\r\\n" before each message)`);
        return;
      }
      const header = this.buf.subarray(0, end).toString("ascii");
      let length = -1;
      for (const line of header.split("\r\n")) {
        const m = /^content-length:\s*(\d+)\s*$/i.exec(line);
        if (m) length = Number(m[1]);
        else if (!/^[A-Za-z-]+:/.test(line)) return this.fail(`malformed DAP framing: header line ${JSON.stringify(line.slice(0, 80))} is not "Name: value" (expected "Content-Length: <n>")`);
      }
      if (length < 0) return this.fail(`malformed DAP framing: header ${JSON.stringify(header.slice(0, 80))} has no Content-Length`);
      if (length > MAX_BODY) return this.fail(`malformed DAP framing: Content-Length ${length} is over the ${MAX_BODY}-byte limit`);
      const start = end + SEPARATOR.length;
      if (this.buf.length < start + length) return;
      const body = this.buf.subarray(start, start + length).toString("utf8");
      this.buf = this.buf.subarray(start + length);
      let parsed: unknown;
      try {
        parsed = JSON.parse(body);
      } catch (e) {
        this.onError(new DapFramingError(`malformed DAP message: the body is not JSON (${(e as Error).message}): ${JSON.stringify(body.slice(0, 80))}`, true));
        continue;
      }
      const problem = shapeProblem(parsed);
      if (problem !== null) {
        this.onError(new DapFramingError(`malformed DAP message: ${problem}`, true));
        continue;
      }
      this.onMessage(parsed as DapMessage);
    }
  }

  private fail(message: string): void {
    this.broken = true;
    this.buf = Buffer.alloc(0);
    this.onError(new DapFramingError(message, false));
  }
}

function shapeProblem(v: unknown): string | null {
  if (v === null || typeof v !== "object" || Array.isArray(v)) return "a message must be a JSON object";
  const m = v as Record<string, unknown>;
  if (typeof m.seq !== "number") return `field "seq" must be a number, got ${JSON.stringify(m.seq)}`;
  if (m.type !== "request" && m.type !== "response" && m.type !== "event") return `field "type" must be "request", "response" or "event", got ${JSON.stringify(m.type)}`;
  if (m.type === "request" && typeof m.command !== "string") return `a request needs a string "command", got ${JSON.stringify(m.command)}`;
  if (m.type === "request" && m.arguments !== undefined && (m.arguments === null || typeof m.arguments !== "object" || Array.isArray(m.arguments))) return `field "arguments" of ${String(m.command)} must be an object`;
  return null;
}
