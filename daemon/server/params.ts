/**
 * Run-time checks of method params. A check returns the typed value or throws
 * InvalidParams naming the method, the path and what was found, so a client
 * author sees `params.ops[2].field: expected a string, got 42`.
 */
import type { FieldValue } from "../crdt/vocabulary.ts";

export class InvalidParams extends Error {
  override readonly name = "InvalidParams";
  constructor(
    readonly path: string,
    readonly problem: string,
  ) {
    super(`${path}: ${problem}`);
  }
}

export type Check<T> = (value: unknown, path: string) => T;

function describe(v: unknown): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return "a list";
  if (typeof v === "string") return `the string ${JSON.stringify(v.length > 40 ? v.slice(0, 40) + "…" : v)}`;
  if (typeof v === "object") return "an object";
  return `${typeof v} ${String(v)}`;
}

export const str: Check<string> = (v, p) => {
  if (typeof v !== "string") throw new InvalidParams(p, `expected a string, got ${describe(v)}`);
  return v;
};

export const nonEmpty: Check<string> = (v, p) => {
  const s = str(v, p);
  if (s.trim() === "") throw new InvalidParams(p, "must not be empty");
  return s;
};

export function int(min: number, max = Number.MAX_SAFE_INTEGER): Check<number> {
  return (v, p) => {
    if (typeof v !== "number" || !Number.isInteger(v)) throw new InvalidParams(p, `expected an integer, got ${describe(v)}`);
    if (v < min || v > max) throw new InvalidParams(p, `must be between ${min} and ${max}, got ${v}`);
    return v;
  };
}

export const num: Check<number> = (v, p) => {
  if (typeof v !== "number" || !Number.isFinite(v)) throw new InvalidParams(p, `expected a number, got ${describe(v)}`);
  return v;
};

export const bool: Check<boolean> = (v, p) => {
  if (typeof v !== "boolean") throw new InvalidParams(p, `expected true or false, got ${describe(v)}`);
  return v;
};

/** Any JSON value (a field value); JSON.parse cannot produce anything else. */
export const value: Check<FieldValue> = (v, p) => {
  if (v === undefined) throw new InvalidParams(p, "is required (a value; null clears)");
  return v as FieldValue;
};

export function oneOf<T extends string>(options: readonly T[]): Check<T> {
  return (v, p) => {
    if (typeof v !== "string" || !(options as readonly string[]).includes(v)) {
      throw new InvalidParams(p, `expected one of ${options.map((o) => JSON.stringify(o)).join(", ")}, got ${describe(v)}`);
    }
    return v as T;
  };
}

export function list<T>(item: Check<T>, maxItems = 1_000_000): Check<T[]> {
  return (v, p) => {
    if (!Array.isArray(v)) throw new InvalidParams(p, `expected a list, got ${describe(v)}`);
    if (v.length > maxItems) throw new InvalidParams(p, `at most ${maxItems} items, got ${v.length}`);
    return v.map((x, i) => item(x, `${p}[${i}]`));
  };
}

/**
 * Keys that name Object.prototype's machinery: as a map key they would reach the
 * prototype (`out["__proto__"] = x` replaces it) instead of holding a value.
 */
const PROTOTYPE_KEYS = new Set(["__proto__", "constructor", "prototype"]);

export function record<T>(item: Check<T>): Check<Record<string, T>> {
  return (v, p) => {
    if (typeof v !== "object" || v === null || Array.isArray(v)) throw new InvalidParams(p, `expected an object, got ${describe(v)}`);
    const out: Record<string, T> = {};
    for (const [k, x] of Object.entries(v)) {
      if (PROTOTYPE_KEYS.has(k)) throw new InvalidParams(`${p}.${k}`, `reserved key (${[...PROTOTYPE_KEYS].join(", ")} cannot be used as names)`);
      out[k] = item(x, `${p}.${k}`);
    }
    return out;
  };
}

export interface Optional<T> {
  optional: true;
  check: Check<T>;
}

export function opt<T>(check: Check<T>): Optional<T> {
  return { optional: true, check };
}

type Shape = Record<string, Check<unknown> | Optional<unknown>>;
type ShapeValue<S extends Shape> = {
  [K in keyof S as S[K] extends Optional<unknown> ? never : K]: S[K] extends Check<infer T> ? T : never;
} & {
  [K in keyof S as S[K] extends Optional<unknown> ? K : never]?: S[K] extends Optional<infer T> ? T : never;
};

/** An object with exactly these keys (unknown keys are refused: a typo must not be silently ignored). */
export function obj<S extends Shape>(shape: S): Check<ShapeValue<S>> {
  return (v, p) => {
    if (v === undefined || v === null) v = {};
    if (typeof v !== "object" || Array.isArray(v)) throw new InvalidParams(p, `expected an object, got ${describe(v)}`);
    const input = v as Record<string, unknown>;
    for (const k of Object.keys(input)) {
      // Own keys only: `"constructor" in shape` is true for every object literal.
      if (!Object.hasOwn(shape, k)) throw new InvalidParams(`${p}.${k}`, `unknown key (expected ${Object.keys(shape).join(", ") || "no keys"})`);
    }
    const out: Record<string, unknown> = {};
    for (const [k, c] of Object.entries(shape)) {
      const x = input[k];
      if (typeof c === "function") {
        if (x === undefined) throw new InvalidParams(`${p}.${k}`, "is required");
        out[k] = c(x, `${p}.${k}`);
      } else if (x !== undefined) out[k] = c.check(x, `${p}.${k}`);
    }
    return out as ShapeValue<S>;
  };
}
