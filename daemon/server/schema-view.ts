import type { Schema } from "../crdt/index.ts";
import type { SchemaResult } from "../../protocol/index.ts";

/** The schema as the protocol describes it (the `schema` method; also what fixtures type CSV cells by). */
export function schemaResult(sc: Schema): SchemaResult {
  return {
    facets: [...sc.facets.values()].map((f) => ({
      key: f.key,
      module: f.module,
      name: f.name,
      fields: f.fields.map((d) => ({ name: d.name, key: d.key, type: d.type })),
    })),
    tables: [...sc.tables.values()].map((t) => ({ name: t.name, module: t.module, facets: [...t.facets] })),
    edgeTypes: [...sc.edgeTypes.values()].map((e) => ({ name: e.name, module: e.module, ordered: e.ordered })),
  };
}
