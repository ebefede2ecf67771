/**
 * A `capabilities = [...]` list of a `[script.*]` or `[module.*]` section,
 * checked at its own file and line. Given the schema, `data.*` patterns must
 * name modules, facets and fields that exist: a typo there would otherwise
 * silently grant nothing.
 */
import { configError } from "../../config/index.ts";
import type { TomlDocument } from "../../config/index.ts";
import { suggest } from "../../crdt/vocabulary.ts";
import type { Schema } from "../../crdt/vocabulary.ts";
import { readCapability } from "./capability.ts";
import type { Capability } from "./capability.ts";
import { CapabilitySet } from "./capability-set.ts";
import type { FacetPattern } from "./facet-pattern.ts";

/** Where a list is written: `path` is the key, e.g. `["script", "renumber_cues", "capabilities"]`. */
export interface CapabilityListSource {
  doc: TomlDocument;
  path: readonly string[];
  schema?: Schema;
}

export function parseCapabilities(list: readonly string[], where: CapabilityListSource): CapabilitySet {
  const caps: Capability[] = [];
  list.forEach((text, i) => {
    const at = [...where.path, String(i)];
    const c = readCapability(text);
    if (typeof c === "string") throw configError(where.doc, at, `capability "${text}": ${c}`);
    if (where.schema && (c.kind === "data.read" || c.kind === "data.write")) {
      const missing = unknownTarget(c.pattern, where.schema);
      if (missing !== null) throw configError(where.doc, at, `capability "${text}": ${missing}`);
    }
    caps.push(c);
  });
  return new CapabilitySet(caps);
}

function unknownTarget(p: FacetPattern, schema: Schema): string | null {
  switch (p.scope) {
    case "all":
      return null;
    case "module": {
      const modules = new Set([...schema.facets.values()].map((f) => f.module));
      return modules.has(p.module) ? null : `no module "${p.module}" declares facets${suggest(p.module, modules)}`;
    }
    case "facet": {
      // `<module>.<name>` names a facet, a table or an edge type of that module.
      const key = `${p.module}.${p.facet}`;
      const named = [
        ...schema.facets.keys(),
        ...[...schema.tables.values()].map((t) => `${t.module}.${t.name}`),
        ...[...schema.edgeTypes.values()].map((e) => `${e.module}.${e.name}`),
      ];
      const found = named.some((k) => k.toLowerCase() === key.toLowerCase());
      return found ? null : `unknown facet, table or edge type "${key}"${suggest(key, named)}`;
    }
    case "field":
      return schema.fields.has(p.key) ? null : `unknown field "${p.key}"${suggest(p.key, schema.fields.keys())}`;
  }
}
