/**
 * The daemon's log: one line per record to stderr and `.openprod/logs/daemon.log`,
 * as JSON objects (`--log-format json`) or readable text, and to socket
 * subscribers as `log` events.
 */
import fs from "node:fs";
import path from "node:path";
import type { LogLevel } from "../peer/index.ts";

export type LogFormat = "json" | "text";

export interface Logger {
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
  log(level: LogLevel, msg: string, fields?: Record<string, unknown>): void;
  /** Also deliver every record to `sink` (e.g. socket `log` events); returns the detach. */
  tap(sink: (record: LogRecord) => void): () => void;
  close(): void;
}

export interface LogRecord {
  time: string;
  level: LogLevel;
  msg: string;
  fields: Record<string, unknown>;
}

export interface LoggerOptions {
  format: LogFormat;
  /** Log file, appended to; its folder is created. */
  file?: string;
  /** Where the console copy goes (default process.stderr); null: nowhere. */
  console?: NodeJS.WritableStream | null;
  /** Records below this level are dropped (default "info"). */
  level?: LogLevel;
  now?: () => Date;
}

const ORDER: Record<LogLevel, number> = { debug: 0, info: 1, warn: 2, error: 3 };

export function createLogger(opts: LoggerOptions): Logger {
  const now = opts.now ?? (() => new Date());
  const out = opts.console === undefined ? process.stderr : opts.console;
  const min = ORDER[opts.level ?? "info"];
  const sinks = new Set<(r: LogRecord) => void>();
  let fd: number | null = null;
  if (opts.file) {
    fs.mkdirSync(path.dirname(opts.file), { recursive: true });
    fd = fs.openSync(opts.file, "a", 0o600);
  }

  const log = (level: LogLevel, msg: string, fields: Record<string, unknown> = {}): void => {
    if (ORDER[level] < min) return;
    const record: LogRecord = { time: now().toISOString(), level, msg, fields };
    const line = (opts.format === "json" ? JSON.stringify({ time: record.time, level, msg, ...fields }) : formatText(record)) + "\n";
    out?.write(line);
    // Written synchronously so the last lines before a crash are on disk.
    if (fd !== null) fs.writeSync(fd, line);
    for (const s of sinks) s(record);
  };

  return {
    debug: (m, f) => log("debug", m, f),
    info: (m, f) => log("info", m, f),
    warn: (m, f) => log("warn", m, f),
    error: (m, f) => log("error", m, f),
    log,
    tap(sink) {
      sinks.add(sink);
      return () => sinks.delete(sink);
    },
    close() {
      if (fd !== null) fs.closeSync(fd);
      fd = null;
    },
  };
}

function formatText(r: LogRecord): string {
  const extra = Object.entries(r.fields)
    .filter(([, v]) => v !== undefined && typeof v !== "object")
    .map(([k, v]) => `${k}=${String(v)}`)
    .join(" ");
  return `${r.time} ${r.level.toUpperCase().padEnd(5)} ${r.msg}${extra ? `  (${extra})` : ""}`;
}
