/**
 * `[script.<name>.args]`: the arguments a script takes, each with a type, an
 * optional default and a line of help. `openprod run` and the daemon's
 * `scripts.run` check a run's args against them (one rule, here), and
 * `openprod run <script> --help` lists them.
 *
 *   [script.renumber_cues.args]
 *   scene_id = { type = "entity", help = "the scene whose cues are renumbered" }
 *   start = { type = "int", default = 1, help = "the first cue number" }
 */
import { InvalidOperation } from "../crdt/vocabulary.ts";
import { suggest } from "../crdt/vocabulary.ts";
import { checkKeys, configError } from "./toml-document.ts";
import type { TomlDocument } from "./toml-document.ts";
import { describeValue, expectTable, isTable, optionalBool, optionalString } from "./config-values.ts";

import { SCRIPT_ARG_TYPES } from "../../protocol/index.ts";
import type { ScriptArgSpec, ScriptArgType } from "../../protocol/index.ts";

// The shape is the wire contract's: scripts.list hands these to clients as they are.
export { SCRIPT_ARG_TYPES } from "../../protocol/index.ts";
export type { ScriptArgSpec, ScriptArgType } from "../../protocol/index.ts";

const KEYS = ["type", "default", "help", "required"];
const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** The `args` table of a `[script.*]` section at `path` (e.g. ["script", "renumber_cues"]). */
export function parseScriptArgs(doc: TomlDocument, path: readonly string[], value: unknown): ScriptArgSpec[] {
  if (value === undefined) return [];
  const at = [...path, "args"];
  const table = expectTable(doc, at, value);
  return Object.entries(table).map(([name, raw]) => {
    const p = [...at, name];
    if (!NAME.test(name)) throw configError(doc, p, `argument names are letters, digits and "_", starting with a letter`);
    const t = typeof raw === "string" ? { type: raw } : raw;
    if (!isTable(t)) throw configError(doc, p, `expected { type = "...", default = ..., help = "..." } or a type name, got ${describeValue(raw)}`);
    checkKeys(doc, p, t, KEYS);
    const type = t.type ?? "string";
    if (typeof type !== "string" || !(SCRIPT_ARG_TYPES as readonly string[]).includes(type)) {
      throw configError(doc, [...p, "type"], `unknown argument type ${describeValue(type)}; the types are ${SCRIPT_ARG_TYPES.join(", ")}`);
    }
    const spec: ScriptArgSpec = {
      name,
      type: type as ScriptArgType,
      help: optionalString(doc, p, t, "help", ""),
      required: optionalBool(doc, p, t, "required", t.default === undefined),
    };
    if (t.default !== undefined) {
      const d = coerce(spec, t.default);
      if (!d.ok) throw configError(doc, [...p, "default"], `default ${d.problem}`);
      spec.default = d.value;
    }
    return spec;
  });
}

/**
 * A run's args checked against the script's declared ones: defaults filled in, CLI text
 * converted to the declared type. Every problem (missing, unknown, wrong type) is listed in one
 * InvalidOperation; `details.missing` / `details.unknown` / `details.invalid` name them.
 */
export function checkScriptArgs(script: string, specs: readonly ScriptArgSpec[], given: Readonly<Record<string, unknown>>): Record<string, unknown> {
  if (specs.length === 0) return { ...given };
  const out: Record<string, unknown> = {};
  const problems: string[] = [];
  const missing: string[] = [];
  const invalid: string[] = [];
  for (const s of specs) {
    if (!(s.name in given)) {
      if (s.default !== undefined) out[s.name] = s.default;
      else if (s.required) {
        missing.push(s.name);
        problems.push(`missing argument ${s.name} (${s.type}${s.help ? `: ${s.help}` : ""})`);
      }
      continue;
    }
    const v = coerce(s, given[s.name]);
    if (v.ok) out[s.name] = v.value;
    else {
      invalid.push(s.name);
      problems.push(`argument ${s.name} ${v.problem}`);
    }
  }
  const names = specs.map((s) => s.name);
  const unknown = Object.keys(given).filter((k) => !names.includes(k));
  for (const k of unknown) problems.push(`unknown argument ${k}${suggest(k, names)} (${script} takes ${names.join(", ")})`);
  if (problems.length) {
    throw new InvalidOperation(`script ${script}: ${problems.join("; ")}`, { script, missing, unknown, invalid });
  }
  return out;
}

type Coerced = { ok: true; value: unknown } | { ok: false; problem: string };

/** Text from the command line is converted; other values must already be of the type. */
function coerce(s: ScriptArgSpec, v: unknown): Coerced {
  const bad = (what: string): Coerced => ({ ok: false, problem: `must be ${what}, got ${describeValue(v)}` });
  switch (s.type) {
    case "string":
    case "entity":
      if (typeof v === "string" && v !== "") return { ok: true, value: v };
      if (typeof v === "number" && s.type === "string") return { ok: true, value: String(v) };
      return bad(s.type === "entity" ? "an entity id" : "text");
    case "int": {
      const n = typeof v === "string" && v.trim() !== "" ? Number(v) : v;
      return typeof n === "number" && Number.isInteger(n) ? { ok: true, value: n } : bad("a whole number");
    }
    case "float": {
      const n = typeof v === "string" && v.trim() !== "" ? Number(v) : v;
      return typeof n === "number" && Number.isFinite(n) ? { ok: true, value: n } : bad("a number");
    }
    case "bool":
      if (typeof v === "boolean") return { ok: true, value: v };
      if (v === "true" || v === "yes") return { ok: true, value: true };
      if (v === "false" || v === "no") return { ok: true, value: false };
      return bad("true or false");
    case "json":
      return { ok: true, value: v };
  }
}
