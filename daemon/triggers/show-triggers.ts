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
import { ConfigError } from "../crdt/vocabulary.ts";
import type { Schema } from "../crdt/vocabulary.ts";
import type { ModuleManifest, WorkspaceConfig } from "../config/index.ts";
import type { CapabilitySet } from "../scripts/capabilities/index.ts";
import { showCapabilities } from "../scripts/runtime/index.ts";
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
  // The rule for who may do what lives with the scripts runtime, which enforces it: the cycle
  // check below must assume exactly what runs will be held to.
  const { capabilities, errors } = showCapabilities({ config: show.config, modules: show.modules, schema });
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
