/**
 * Every configured script's capabilities, from a show's configuration: a user script gets its
 * `[script.<name>]` list; a module script gets its module's `[module.<m>]` list plus its own.
 * The trigger cycle check (daemon/triggers/show-triggers.ts) uses this same function, so the
 * runtime holds scripts to exactly what that check assumed. A list with a mistake grants
 * nothing and is reported at its file and line.
 */
import { ConfigError } from "../../crdt/vocabulary.ts";
import type { Schema } from "../../crdt/vocabulary.ts";
import { stringList } from "../../config/index.ts";
import type { ModuleManifest, RawSection, WorkspaceConfig } from "../../config/index.ts";
import { CapabilitySet, parseCapabilities } from "../capabilities/index.ts";
import type { Capability } from "../capabilities/index.ts";

export interface ShowCapabilitiesInput {
  config: Pick<WorkspaceConfig, "scripts">;
  modules: readonly Pick<ModuleManifest, "name" | "doc" | "capabilities" | "scripts">[];
  schema: Schema;
}

export interface ShowCapabilities {
  /** By script id: `renumber_cues`, `lighting/lightwright_sync`. */
  capabilities: Map<string, CapabilitySet>;
  errors: ConfigError[];
}

export function showCapabilities(show: ShowCapabilitiesInput): ShowCapabilities {
  const errors: ConfigError[] = [];
  const capabilities = new Map<string, CapabilitySet>();
  const attempt = <T>(fn: () => T): T | null => {
    try {
      return fn();
    } catch (e) {
      if (!(e instanceof ConfigError)) throw e;
      errors.push(e);
      return null;
    }
  };
  const parseList = (list: readonly string[], doc: RawSection["doc"], path: string[]): Capability[] | null =>
    attempt(() => [...parseCapabilities(list, { doc, path, schema: show.schema }).capabilities]);
  const scriptList = (s: RawSection): Capability[] | null => {
    const list = attempt(() => stringList(s.doc, s.path, s.values, "capabilities", []));
    return list === null ? null : parseList(list, s.doc, [...s.path, "capabilities"]);
  };
  for (const s of Object.values(show.config.scripts)) {
    const caps = scriptList(s);
    capabilities.set(s.name, caps === null ? CapabilitySet.none : new CapabilitySet(caps));
  }
  for (const m of show.modules) {
    const granted = parseList(m.capabilities.map((c) => c.value), m.doc, ["module", m.name, "capabilities"]);
    for (const s of Object.values(m.scripts)) {
      const own = scriptList(s);
      const caps = granted === null || own === null ? null : [...granted, ...own];
      capabilities.set(`${m.name}/${s.name}`, caps === null ? CapabilitySet.none : new CapabilitySet(caps));
    }
  }
  return { capabilities, errors };
}
