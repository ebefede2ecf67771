/** What a command prints: one JSON document with --json, readable text otherwise; errors the same way, on stderr for text. */
import { DaemonNotRunning } from "../../protocol/index.ts";
import { UsageError } from "./args.ts";

export interface CliIO {
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
  /** Where interactive answers come from (default process.stdin; only read when it is a terminal). */
  stdin?: NodeJS.ReadStream;
}

export interface ErrorDoc {
  type: string;
  message: string;
  details?: Record<string, unknown>;
}

/** Exit codes: 1 the operation failed, 2 bad usage or configuration, 3 no daemon running. */
export function exitCodeOf(doc: ErrorDoc): number {
  if (doc.type === "UsageError" || doc.type === "ConfigError") return 2;
  if (doc.details?.daemonRunning === false) return 3;
  return 1;
}

export function errorDoc(e: unknown): ErrorDoc {
  if (e instanceof UsageError) return { type: "UsageError", message: e.message, details: e.command ? { command: e.command } : {} };
  if (e instanceof DaemonNotRunning) return e.toJSON();
  if (typeof e === "object" && e !== null && "toJSON" in e && typeof e.toJSON === "function") {
    const j = (e.toJSON as () => unknown)();
    if (typeof j === "object" && j !== null && "type" in j && "message" in j) return j as ErrorDoc;
  }
  if (e instanceof Error && e.name === "InvalidParams") return { type: "InvalidOperation", message: e.message, details: {} };
  return { type: "InternalError", message: e instanceof Error ? e.message : String(e), details: {} };
}

export function printError(io: CliIO, json: boolean, doc: ErrorDoc): void {
  if (json) io.stdout.write(JSON.stringify({ error: doc }) + "\n");
  else io.stderr.write(`${doc.type}: ${doc.message}\n`);
}

export function formatValue(v: unknown): string {
  return typeof v === "string" ? v : JSON.stringify(v);
}
