/**
 * A show's triggers, from its loaded configuration: each script's capabilities
 * are parsed (user scripts: their `[script.*]` list; module scripts: the
 * module's list plus their own), their write sets feed the cycle check, and
 * the same capability sets are handed back for the runtime to enforce, so the
 * graph the cycle check saw is the one the scripts are held to.
 *
 * Mistakes are collected rather than thrown so a client can list them all;
 * the daemon refuses to start on the first.
 */
import { ConfigError } from "../crdt/errors.ts";
import type { Schema } from "../crdt/schema.ts";
import { stringList } from "../config/index.ts";
import type { ModuleManifest, RawSection, WorkspaceConfig } from "../config/index.ts";
import { CapabilitySet, parseCapabilities } from "../scripts/capabilities/index.ts";
import type { Capability } from "../scripts/capabilities/index.ts";
import { loadTriggers, triggerSections } from "./load-triggers.ts";
import type { TriggerSection } from "./load-triggers.ts";
import { parseTrigger } from "./parse-trigger.ts";
import type { KnownScript, RejectedTrigger, TriggerDef } from "./trigger-def.ts";

export interface ShowTriggersInput {
  config: Pick<WorkspaceConfig, "scripts" | "triggers">;
  modules: readonly Pick<ModuleManifest, "name" | "doc" | "capabilities" | "scripts" | "triggers">[];
  schema: Schema;
}

export interface ShowTriggersOptions {
  /** Defaults to the show's schema. */
  schema?: Schema;
  /**
   * Capabilities to use instead of the configured ones, by script id (a grant
   * narrowed or revoked since the files were read). Scripts not named keep theirs.
   */
  capabilities?: ReadonlyMap<string, CapabilitySet>;
}

export interface ShowTriggers {
  triggers: TriggerDef[];
  /** Triggers on a cycle, with the cycle spelled out; the others are loaded. */
  rejected: RejectedTrigger[];
  /** Malformed `[trigger.*]` sections and capability lists, each at its file and line. */
  errors: ConfigError[];
  /**
   * Every configured script's capabilities by id (`renumber_cues`, `lighting/osc_listener`):
   * give these to the runtime (`capabilities: (s) => caps.get(s.id) ?? CapabilitySet.none`).
   * A script whose list has a mistake gets none: it can write nothing, which is also
   * what the cycle check assumed.
   */
  capabilities: Map<string, CapabilitySet>;
}

export function loadShowTriggers(show: ShowTriggersInput, opts: ShowTriggersOptions = {}): ShowTriggers {
  const schema = opts.schema ?? show.schema;
  const errors: ConfigError[] = [];
  const capabilities = new Map<string, CapabilitySet>();

  const parseList = (list: readonly string[], doc: RawSection["doc"], path: string[]): Capability[] | null => {
    try {
      return [...parseCapabilities(list, { doc, path, schema }).capabilities];
    } catch (e) {
      if (!(e instanceof ConfigError)) throw e;
      errors.push(e);
      return null;
    }
  };
  const scriptList = (s: RawSection): Capability[] | null => {
    let list: string[];
    try {
      list = stringList(s.doc, s.path, s.values, "capabilities", []);
    } catch (e) {
      if (!(e instanceof ConfigError)) throw e;
      errors.push(e);
      return null;
    }
    return parseList(list, s.doc, [...s.path, "capabilities"]);
  };

  for (const s of Object.values(show.config.scripts)) {
    const caps = scriptList(s);
    capabilities.set(s.name, caps === null ? CapabilitySet.none : new CapabilitySet(caps));
  }
  for (const m of show.modules) {
    const granted = parseList(
      m.capabilities.map((c) => c.value),
      m.doc,
      ["module", m.name, "capabilities"],
    );
    for (const s of Object.values(m.scripts)) {
      const own = scriptList(s);
      // Module scripts run with the module's capabilities, plus any their own section adds.
      const caps = granted === null || own === null ? null : [...granted, ...own];
      capabilities.set(`${m.name}/${s.name}`, caps === null ? CapabilitySet.none : new CapabilitySet(caps));
    }
  }
  for (const [id, caps] of opts.capabilities ?? []) capabilities.set(id, caps);

  const scripts = new Map<string, KnownScript>();
  for (const [id, caps] of capabilities) scripts.set(id, { writes: caps.writeSet(schema) });

  // Check each section alone first, so one malformed trigger does not hide the others' mistakes.
  const good: TriggerSection[] = [];
  for (const t of triggerSections(show.config.triggers, show.modules)) {
    try {
      parseTrigger(t.section, { schema, scripts, module: t.module });
      good.push(t);
    } catch (e) {
      if (!(e instanceof ConfigError)) throw e;
      errors.push(e);
    }
  }
  const { triggers, rejected } = loadTriggers(good, { schema, scripts });
  return { triggers, rejected, errors, capabilities };
}
