/**
 * Loads every `[trigger.*]` of a show (openprod.toml and module manifests).
 * A malformed trigger stops the load with a ConfigError; a trigger that
 * would form a cycle is rejected with the cycle spelled out, and the others
 * still load.
 */
import { configError } from "../config/index.ts";
import type { RawSection } from "../config/index.ts";
import type { RejectedTrigger, TriggerDef } from "./trigger-def.ts";
import { parseTrigger } from "./parse-trigger.ts";
import type { TriggerContext } from "./parse-trigger.ts";
import { triggerCycles } from "./trigger-cycles.ts";

export interface TriggerSection {
  section: RawSection;
  /** The module whose module.toml holds the section; absent for openprod.toml. */
  module?: string;
}

export interface LoadedTriggers {
  triggers: TriggerDef[];
  rejected: RejectedTrigger[];
}

const NO_WRITES: ReadonlySet<string> = new Set();

export function loadTriggers(sections: readonly TriggerSection[], ctx: Omit<TriggerContext, "module">): LoadedTriggers {
  const defs = sections.map((s) => parseTrigger(s.section, { ...ctx, module: s.module }));
  const cycles = triggerCycles(
    defs.map((d) => ({ name: d.name, script: d.script, watches: d.field.key })),
    (script) => ctx.scripts.get(script)?.writes ?? NO_WRITES,
  );
  const triggers: TriggerDef[] = [];
  const rejected: RejectedTrigger[] = [];
  defs.forEach((d, i) => {
    const cycle = cycles.get(i);
    if (cycle === undefined) {
      triggers.push(d);
      return;
    }
    const { section } = sections[i];
    const error = configError(
      section.doc,
      section.path,
      `${cycle}; this trigger is not loaded (narrow the script's data.write capabilities or watch another field)`,
    );
    rejected.push({ name: d.name, file: d.file, line: d.line, error });
  });
  return { triggers, rejected };
}

/** The trigger sections of a loaded show: openprod.toml's, then each module's. */
export function triggerSections(
  workspace: Readonly<Record<string, RawSection>>,
  modules: readonly { name: string; triggers: Readonly<Record<string, RawSection>> }[],
): TriggerSection[] {
  return [
    ...Object.values(workspace).map((section) => ({ section })),
    ...modules.flatMap((m) => Object.values(m.triggers).map((section) => ({ section, module: m.name }))),
  ];
}
