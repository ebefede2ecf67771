/** Command-line parsing: positionals, `--flag value`, `--flag=value`, boolean `--flag`; unknown flags are usage errors. */
import type { FieldValue } from "../../protocol/index.ts";

export interface FlagSpec {
  type: "string" | "boolean";
  help: string;
  /** One-letter alias, e.g. "f" for -f. */
  short?: string;
  /** A string flag that may be given several times: every value is kept in `lists`. */
  repeat?: boolean;
}

export interface ParsedArgs {
  positional: string[];
  /** The last value of each flag given. */
  flags: Record<string, string | boolean>;
  /** Every value of each `repeat` flag, in order. */
  lists: Record<string, string[]>;
}

export class UsageError extends Error {
  override readonly name = "UsageError";
  constructor(
    message: string,
    readonly command?: string,
  ) {
    super(message);
  }
}

/** A leading "-" followed by a digit is a value (e.g. `set x channel -5`), not a flag. */
const NUMBER_LIKE = /^-\d/;

export function parseArgs(argv: readonly string[], specs: Record<string, FlagSpec>, command?: string): ParsedArgs {
  const out: ParsedArgs = { positional: [], flags: {}, lists: {} };
  const byShort = new Map(Object.entries(specs).flatMap(([name, s]) => (s.short ? [[s.short, name] as const] : [])));
  for (let i = 0; i < argv.length; i++) {
    const tok = argv[i];
    if (tok === "--") {
      out.positional.push(...argv.slice(i + 1));
      break;
    }
    if (!tok.startsWith("-") || tok === "-" || NUMBER_LIKE.test(tok)) {
      out.positional.push(tok);
      continue;
    }
    let name: string;
    let inline: string | undefined;
    if (tok.startsWith("--")) {
      const eq = tok.indexOf("=");
      name = eq === -1 ? tok.slice(2) : tok.slice(2, eq);
      inline = eq === -1 ? undefined : tok.slice(eq + 1);
    } else {
      const long = byShort.get(tok.slice(1));
      if (long === undefined) throw new UsageError(`unknown option ${tok}`, command);
      name = long;
    }
    const spec = specs[name];
    if (!spec) {
      const known = Object.keys(specs).map((k) => `--${k}`);
      throw new UsageError(`unknown option --${name}${known.length ? ` (options: ${known.join(", ")})` : ""}`, command);
    }
    if (spec.type === "boolean") {
      if (inline !== undefined) throw new UsageError(`--${name} takes no value`, command);
      out.flags[name] = true;
    } else {
      const v = inline ?? argv[++i];
      if (v === undefined) throw new UsageError(`--${name} needs a value`, command);
      out.flags[name] = v;
      if (spec.repeat) (out.lists[name] ??= []).push(v);
    }
  }
  return out;
}

/** A value typed on the command line: JSON when it parses as JSON (42, true, null, "x", [1]), else the text itself. */
export function parseValue(text: string): FieldValue {
  try {
    // JSON.parse yields nothing but field values (null, booleans, numbers, strings, lists, objects).
    return JSON.parse(text) as FieldValue;
  } catch {
    return text;
  }
}

/** `--args` text: one JSON object, else a usage error naming the command. */
export function jsonObject(text: string, command: string): Record<string, FieldValue> {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (e) {
    throw new UsageError(`--args must be a JSON object, e.g. '{"scene_id":"01JF..."}': ${(e as Error).message}`, command);
  }
  if (typeof v !== "object" || v === null || Array.isArray(v)) throw new UsageError(`--args must be a JSON object, got ${text}`, command);
  return v as Record<string, FieldValue>;
}
