/**
 * One `[trigger.<name>]` section checked against the schema and the known
 * scripts. Every mistake is a ConfigError at the key's file and line.
 */
import { checkKeys, configError, describeValue, isTable, optionalBool, optionalInt, optionalString, requireString } from "../config/index.ts";
import type { RawSection } from "../config/index.ts";
import { parseCondition } from "../crdt/query/index.ts";
import type { ParsedCondition } from "../crdt/query/index.ts";
import type { FieldDef, Schema } from "../crdt/vocabulary.ts";
import { suggest } from "../crdt/vocabulary.ts";
import { CONCURRENCY_MODES, RUN_MODES } from "./trigger-def.ts";
import type { Concurrency, KnownScript, ParamSource, RunMode, TriggerDef } from "./trigger-def.ts";
import { conditionNames, resolveReference } from "./trigger-references.ts";
import { resolveWatchedField } from "./watched-field.ts";

export const TRIGGER_KEYS = [
  "on_field_change",
  "when",
  "scope",
  "run_script",
  "params",
  "mode",
  "concurrency",
  "supersede",
  "remote",
  "max_traces",
];
export const DEFAULT_MAX_TRACES = 50;

export interface TriggerContext {
  schema: Schema;
  /** Known scripts by id: user scripts by name, module scripts as `<module>/<name>`. */
  scripts: ReadonlyMap<string, KnownScript>;
  /** Set for a module's triggers: names become `<module>/<name>` and `run_script` looks in the module first. */
  module?: string;
}

export function parseTrigger(section: RawSection, ctx: TriggerContext): TriggerDef {
  const { doc, path, values } = section;
  const at = (key: string): string[] => [...path, key];
  checkKeys(doc, path, values, TRIGGER_KEYS);

  const watchedName = requireString(doc, path, values, "on_field_change");
  const field = resolveWatchedField(ctx.schema, watchedName);
  if (typeof field === "string") throw configError(doc, at("on_field_change"), field);

  const scope = values.scope === undefined ? null : requireString(doc, path, values, "scope");
  if (scope !== null && !ctx.schema.edgeTypes.has(scope)) {
    const known = [...ctx.schema.edgeTypes.keys()];
    throw configError(
      doc,
      at("scope"),
      `unknown edge type "${scope}"${suggest(scope, known)}; the edge types are ${known.join(", ") || "none"}`,
    );
  }

  const script = resolveScript(section, ctx);
  const when = parseWhen(section, ctx.schema, field, scope);
  const params = parseParams(section, ctx.schema, field, scope);

  const modeText = optionalString(doc, path, values, "mode", "");
  if (modeText !== "" && !(RUN_MODES as readonly string[]).includes(modeText)) {
    throw configError(doc, at("mode"), `expected "session" or "autoCommit", got "${modeText}"${suggest(modeText, RUN_MODES)}`);
  }
  const concurrency = optionalString(doc, path, values, "concurrency", "queued");
  if (!(CONCURRENCY_MODES as readonly string[]).includes(concurrency)) {
    throw configError(
      doc,
      at("concurrency"),
      `expected one of ${CONCURRENCY_MODES.join(", ")}, got "${concurrency}"${suggest(concurrency, CONCURRENCY_MODES)}`,
    );
  }

  return {
    name: ctx.module === undefined ? section.name : `${ctx.module}/${section.name}`,
    file: section.file,
    line: section.line,
    field,
    when: when?.cond ?? null,
    whenFields: when?.fields ?? new Map(),
    whenNeedsScope: when?.needsScope ?? false,
    scope,
    script,
    params,
    mode: modeText === "" ? undefined : (modeText as RunMode),
    concurrency: concurrency as Concurrency,
    supersede: optionalBool(doc, path, values, "supersede", false),
    remote: optionalBool(doc, path, values, "remote", false),
    maxTraces: optionalInt(doc, path, values, "max_traces", DEFAULT_MAX_TRACES, 1),
  };
}

function resolveScript(section: RawSection, ctx: TriggerContext): string {
  const name = requireString(section.doc, section.path, section.values, "run_script");
  const tried = ctx.module === undefined || name.includes("/") ? [name] : [`${ctx.module}/${name}`, name];
  for (const id of tried) if (ctx.scripts.has(id)) return id;
  const known = [...ctx.scripts.keys()];
  throw configError(
    section.doc,
    [...section.path, "run_script"],
    `unknown script "${name}"${suggest(name, known)}; declare it as [script.${name}]` +
      (known.length > 0 ? ` (known scripts: ${known.join(", ")})` : ""),
  );
}

function parseWhen(
  section: RawSection,
  schema: Schema,
  watched: FieldDef,
  scope: string | null,
): { cond: ParsedCondition; fields: Map<string, FieldDef>; needsScope: boolean } | null {
  if (section.values.when === undefined) return null;
  const path = [...section.path, "when"];
  const text = requireString(section.doc, section.path, section.values, "when");
  let cond: ParsedCondition;
  try {
    cond = parseCondition(text);
  } catch (e) {
    throw configError(section.doc, path, (e as Error).message);
  }
  const fields = new Map<string, FieldDef>();
  let needsScope = false;
  for (const { name, column } of conditionNames(cond.where)) {
    const problem = (msg: string) => configError(section.doc, path, `condition ${JSON.stringify(text)} at column ${column}: ${msg}`);
    if (name === "?") throw problem(`a condition cannot have "?" placeholders; write the value itself`);
    const ref = resolveReference(schema, watched, name);
    if (typeof ref === "string") throw problem(ref);
    if (ref.kind === "source_field") fields.set(name, ref.field);
    if (ref.kind === "scope_entity_id") {
      if (scope === null) throw problem(`"scope_entity_id" needs a scope (scope = "<edge type>")`);
      needsScope = true;
    }
  }
  return { cond, fields, needsScope };
}

function parseParams(section: RawSection, schema: Schema, watched: FieldDef, scope: string | null): Record<string, ParamSource> {
  const raw = section.values.params;
  const path = [...section.path, "params"];
  if (raw === undefined) return {};
  if (!isTable(raw)) {
    throw configError(section.doc, path, `expected an inline table like { scene_id = "$scope_entity_id" }, got ${describeValue(raw)}`);
  }
  const out: Record<string, ParamSource> = {};
  for (const [key, value] of Object.entries(raw)) {
    if (typeof value !== "string" || !value.startsWith("$")) {
      out[key] = { kind: "literal", value };
      continue;
    }
    // "$$..." is a literal string starting with "$".
    if (value.startsWith("$$")) {
      out[key] = { kind: "literal", value: value.slice(1) };
      continue;
    }
    const ref = resolveReference(schema, watched, value.slice(1));
    if (typeof ref === "string") {
      throw configError(section.doc, [...path, key], `${JSON.stringify(value)}: ${ref} (written with "$"; "$$..." is a literal "$...")`);
    }
    if (ref.kind === "scope_entity_id" && scope === null) {
      throw configError(section.doc, [...path, key], `"$scope_entity_id" needs a scope (scope = "<edge type>") to follow from the changed entity`);
    }
    out[key] = ref;
  }
  return out;
}
