/**
 * `[script.<name>]` sections (openprod.toml for user scripts, module.toml for a module's
 * scripts): how a run of that script behaves. Every mistake is a ConfigError at the key's line
 * naming the allowed values.
 */
import { checkKeys, configError, describeValue, isTable, optionalBool, optionalInt, optionalString, parseScriptArgs, stringList } from "../../config/index.ts";
import type { RawSection, ScriptArgSpec } from "../../config/index.ts";

export type ExecutionMode = "session" | "autoCommit";
export type OnError = "skip" | "abort" | "prompt";
export type Isolation = "snapshot" | "live";
/** Lifecycle: a manual/trigger run ends when main returns; a background run lives until stopped. */
export type ScriptMode = "manual" | "background";

/** How a crashed background script comes back: after backoffMs, doubling up to maxBackoffMs. */
export interface RestartPolicy {
  backoffMs: number;
  maxBackoffMs: number;
}

export const DEFAULT_RESTART: Readonly<RestartPolicy> = Object.freeze({ backoffMs: 1000, maxBackoffMs: 60_000 });

export interface ScriptConfig {
  /** What the script does, in a line for people (the console's catalog, `openprod scripts`); "" when not written. */
  description: string;
  executionMode: ExecutionMode;
  onError: OnError;
  isolation: Isolation;
  timeoutMs: number;
  memoryBytes: number;
  shutdownTimeoutMs: number;
  mode: ScriptMode;
  /** Background scripts only: started when the daemon opens the show. */
  autostart: boolean;
  /** Background scripts only: null = a crashed script stays crashed. */
  restart: RestartPolicy | null;
  /** Kept as written; the capabilities part interprets them. */
  capabilities: string[];
  /** Every run (a trigger's too) records a profile of where its time went (openprod profile <run-id>). */
  profile: boolean;
  /** `[script.<name>.args]`: declared arguments; empty: the script takes any args unchecked. */
  args: ScriptArgSpec[];
  /** Under the debugger (openprod debug): how long a run may last on the wall clock, paused time included. */
  debugWallLimitMs: number;
  /** Where the section was written (undefined for a script without a section). */
  file?: string;
  line?: number;
}

export const DEFAULT_SCRIPT_CONFIG: Readonly<ScriptConfig> = Object.freeze({
  description: "",
  executionMode: "session",
  onError: "abort",
  isolation: "snapshot",
  timeoutMs: 30_000,
  memoryBytes: 256 * 1024 * 1024,
  shutdownTimeoutMs: 5_000,
  mode: "manual",
  autostart: false,
  restart: null,
  capabilities: [],
  profile: false,
  args: [],
  debugWallLimitMs: 3600_000,
});

const KEYS = ["execution_mode", "on_error", "isolation", "timeout", "memory", "shutdown_timeout", "capabilities", "mode", "autostart", "restart", "args", "description", "profile", "debug_timeout"];
const RESTART_KEYS = ["backoff_ms", "max_backoff_ms"];
const MAX_SHUTDOWN_MS = 60_000;
const DURATION = /^(\d+(?:\.\d+)?)\s*(ms|s|m|min)$/;
const SIZE = /^(\d+(?:\.\d+)?)\s*(B|KiB|MiB|GiB|KB|MB|GB)$/;
const SIZE_UNITS: Record<string, number> = { B: 1, KiB: 1024, MiB: 1024 ** 2, GiB: 1024 ** 3, KB: 1000, MB: 1000 ** 2, GB: 1000 ** 3 };

/** "500ms", "30s", "2m" → milliseconds; null when the text is not a duration. */
export function parseDuration(text: string): number | null {
  const m = DURATION.exec(text.trim());
  if (!m) return null;
  const n = Number(m[1]);
  const unit = m[2] === "ms" ? 1 : m[2] === "s" ? 1000 : 60_000;
  return Math.round(n * unit);
}

/** "256MiB", "1GiB", "64MB" → bytes; null when the text is not a size. */
export function parseSize(text: string): number | null {
  const m = SIZE.exec(text.trim());
  if (!m) return null;
  return Math.round(Number(m[1]) * SIZE_UNITS[m[2]]);
}

export function parseScriptConfig(section: RawSection): ScriptConfig {
  const { doc, path, values } = section;
  checkKeys(doc, path, values, KEYS);
  const choice = <T extends string>(key: string, allowed: readonly T[], fallback: T): T => {
    const v = values[key];
    if (v === undefined) return fallback;
    if (typeof v !== "string" || !(allowed as readonly string[]).includes(v)) {
      throw configError(doc, [...path, key], `must be one of ${allowed.map((a) => JSON.stringify(a)).join(", ")}, got ${describeValue(v)}`);
    }
    return v as T;
  };
  const measured = (key: string, parse: (s: string) => number | null, example: string, fallback: number, min: number, max: number): number => {
    const v = values[key];
    if (v === undefined) return fallback;
    const n = typeof v === "string" ? parse(v) : null;
    if (n === null) throw configError(doc, [...path, key], `expected ${example}, got ${describeValue(v)}`);
    if (n < min || n > max) throw configError(doc, [...path, key], `must be between ${min} and ${max} (${example}), got ${describeValue(v)}`);
    return n;
  };
  const mode = values.mode;
  if (mode === "session" || mode === "autoCommit") {
    throw configError(doc, [...path, "mode"], `must be "manual" or "background" (the lifecycle); "${mode}" is an execution mode: write execution_mode = "${mode}"`);
  }
  const lifecycle = choice("mode", ["manual", "background"] as const, DEFAULT_SCRIPT_CONFIG.mode);
  const autostart = optionalBool(doc, path, values, "autostart", DEFAULT_SCRIPT_CONFIG.autostart);
  const restart = restartPolicy(section);
  if (lifecycle !== "background") {
    for (const key of ["autostart", "restart"]) {
      if (values[key] !== undefined && values[key] !== false) throw configError(doc, [...path, key], `only applies to background scripts: add mode = "background"`);
    }
  }
  return {
    description: optionalString(doc, path, values, "description", DEFAULT_SCRIPT_CONFIG.description),
    mode: lifecycle,
    autostart,
    profile: optionalBool(doc, path, values, "profile", DEFAULT_SCRIPT_CONFIG.profile),
    restart,
    executionMode: choice("execution_mode", ["session", "autoCommit"] as const, DEFAULT_SCRIPT_CONFIG.executionMode),
    onError: choice("on_error", ["skip", "abort", "prompt"] as const, DEFAULT_SCRIPT_CONFIG.onError),
    isolation: choice("isolation", ["snapshot", "live"] as const, DEFAULT_SCRIPT_CONFIG.isolation),
    timeoutMs: measured("timeout", parseDuration, 'a duration such as "500ms", "30s" or "2m"', DEFAULT_SCRIPT_CONFIG.timeoutMs, 1, 24 * 3600_000),
    memoryBytes: measured("memory", parseSize, 'a size such as "64MiB" or "1GiB"', DEFAULT_SCRIPT_CONFIG.memoryBytes, 1024 * 1024, 16 * 1024 ** 3),
    shutdownTimeoutMs: measured("shutdown_timeout", parseDuration, 'a duration up to "60s"', DEFAULT_SCRIPT_CONFIG.shutdownTimeoutMs, 0, MAX_SHUTDOWN_MS),
    capabilities: stringList(doc, path, values, "capabilities", []),
    args: parseScriptArgs(doc, path, values.args),
    debugWallLimitMs: measured("debug_timeout", parseDuration, 'a duration such as "30m" or "2h"', DEFAULT_SCRIPT_CONFIG.debugWallLimitMs, 1000, 24 * 3600_000),
    file: section.file,
    line: section.line,
  };
}

/** `restart = false` (default), `restart = true` (1 s doubling to 60 s) or `{ backoff_ms, max_backoff_ms }`. */
function restartPolicy(section: RawSection): RestartPolicy | null {
  const { doc, path, values } = section;
  const v = values.restart;
  if (v === undefined || v === false) return null;
  if (v === true) return { ...DEFAULT_RESTART };
  const at = [...path, "restart"];
  if (!isTable(v)) throw configError(doc, at, `expected false, true or a table like { backoff_ms = 1000, max_backoff_ms = 60000 }, got ${describeValue(v)}`);
  checkKeys(doc, at, v, RESTART_KEYS);
  const backoffMs = optionalInt(doc, at, v, "backoff_ms", DEFAULT_RESTART.backoffMs, 1);
  const maxBackoffMs = optionalInt(doc, at, v, "max_backoff_ms", Math.max(backoffMs, DEFAULT_RESTART.maxBackoffMs), 1);
  if (maxBackoffMs < backoffMs) throw configError(doc, [...at, "max_backoff_ms"], `must be at least backoff_ms (${backoffMs}), got ${maxBackoffMs}`);
  return { backoffMs, maxBackoffMs };
}
