/** Entities made, merged and split by a bundle's operations (the interpreter is apply-ops.ts). */
import type { FieldDef } from "./schema.ts";
import type { FieldValue, Fields } from "./operations.ts";
import { InvalidOperation } from "./errors.ts";
import { FACET_PREFIX, K_MERGED_INTO, TABLE_PREFIX, encodeScalar, fieldInput } from "./layout.ts";
import { liveEdgesOf } from "./op-writes.ts";
import type { OpContext } from "./apply-context.ts";
import { note, writeFieldNoted } from "./apply-context.ts";

export function createEntity(ctx: OpContext, id: string | undefined, tables: string[], facets: string[], fields: Fields): string {
  const entityId = id ?? ctx.newId();
  // Generated ids are unique by construction; only a caller-chosen id can collide.
  if (id !== undefined && ctx.doc.entityObj(entityId)) {
    throw new InvalidOperation(`entity ${entityId} already exists`, { entity: entityId });
  }
  const facetSet = new Set<string>();
  for (const t of tables) for (const f of ctx.schema.table(t).facets) facetSet.add(f);
  const explicit = facets.map((f) => ctx.schema.facet(f).key);
  for (const f of explicit) facetSet.add(f);
  const where = tables.length ? `table ${tables.join(", ")}` : `facets ${[...facetSet].join(", ") || "(none)"}`;

  // One putObject with the initial scalar values: far cheaper than a put per key.
  const initial: Record<string, string | number | boolean> = {};
  for (const t of tables) initial[TABLE_PREFIX + t] = "{}";
  for (const f of explicit) initial[FACET_PREFIX + f] = true;
  const crdt: [FieldDef, FieldValue][] = [];
  const noted: [string, FieldValue][] = [];
  for (const [name, raw] of Object.entries(fields)) {
    const def = ctx.schema.resolveField(name, facetSet, where);
    const value = fieldInput(def, raw);
    if (value === null) continue;
    if (def.type === "text" || def.type === "list") {
      crdt.push([def, value]);
      continue;
    }
    const enc = encodeScalar(def, value, entityId);
    if (enc) initial[def.key] = enc.value;
    noted.push([def.key, value]);
  }
  const obj = ctx.doc.be.putObject(ctx.doc.entities, entityId, initial);
  // Typed puts where a JS number alone would lose the int/float distinction.
  for (const [name, value] of Object.entries(fields)) {
    const def = ctx.schema.resolveField(name, facetSet, where);
    if (def.type === "float" && typeof value === "number" && Number.isInteger(value)) ctx.doc.be.put(obj, def.key, value, "f64");
  }
  for (const [def, value] of crdt) {
    ctx.doc.writeField(entityId, obj, def, value);
    noted.push([def.key, value]);
  }
  note(ctx, "entity", entityId, "created", null, ctx.hlc);
  for (const t of tables) note(ctx, "table", entityId, t, null, true);
  for (const f of facetSet) note(ctx, "facet", entityId, f, null, true);
  for (const [k, v] of noted) note(ctx, "field", entityId, k, null, v);
  return entityId;
}

export function mergeEntities(ctx: OpContext, intoId: string, fromId: string, resolution: Fields): void {
  const into = ctx.doc.live(intoId);
  const from = ctx.doc.live(fromId);
  if (into.id === from.id) throw new InvalidOperation(`cannot merge entity ${into.id} into itself`, { entity: into.id });
  const be = ctx.doc.be;
  const intoFacets = new Set(ctx.doc.facets(into.obj));
  const fromState = ctx.doc.state(from.id, from.obj);
  for (const [table, membership] of Object.entries(fromState.tables)) {
    if (be.get(into.obj, TABLE_PREFIX + table) === undefined) {
      be.put(into.obj, TABLE_PREFIX + table, JSON.stringify(membership));
      note(ctx, "table", into.id, table, null, true);
    }
  }
  for (const f of fromState.facets) {
    if (!intoFacets.has(f)) {
      be.put(into.obj, FACET_PREFIX + f, true);
      note(ctx, "facet", into.id, f, null, true);
    }
  }
  const resolvedKeys = new Map<string, FieldValue>();
  for (const [name, value] of Object.entries(resolution)) {
    resolvedKeys.set(ctx.schema.resolveField(name, new Set([...intoFacets, ...fromState.facets]), `the merged entity`).key, value);
  }
  for (const def of ctx.schema.fieldsOf(new Set([...intoFacets, ...fromState.facets]))) {
    const hasFrom = be.get(from.obj, def.key) !== undefined;
    const hasInto = be.get(into.obj, def.key) !== undefined;
    const vFrom = hasFrom ? ctx.doc.readField(from.obj, def) : null;
    const vInto = hasInto ? ctx.doc.readField(into.obj, def) : null;
    if (resolvedKeys.has(def.key)) {
      writeFieldNoted(ctx, into.id, into.obj, def, resolvedKeys.get(def.key) ?? null);
      continue;
    }
    if (!hasFrom) continue;
    if (!hasInto) {
      writeFieldNoted(ctx, into.id, into.obj, def, vFrom);
    } else if (JSON.stringify(vFrom) !== JSON.stringify(vInto)) {
      // A clash nobody resolved: keep the survivor's value and record the conflict.
      const clashId = `clash-${into.id}-${def.key}`;
      ctx.clashes.push(clashId);
      be.put(
        ctx.doc.clashes,
        clashId,
        JSON.stringify({
          entity: into.id,
          field: def.key,
          hlc: ctx.hlc,
          values: [
            { value: vInto, from: into.id },
            { value: vFrom, from: from.id },
          ],
        }),
      );
    }
  }
  // Edges follow the survivor.
  for (const edgeId of liveEdgesOf(ctx, from.id)) {
    const obj = ctx.doc.edgeObj(edgeId) as string;
    const e = ctx.doc.edge(edgeId);
    if (!e) continue;
    if (e.source === from.id) be.put(obj, "source", into.id);
    if (e.target === from.id) be.put(obj, "target", into.id);
    ctx.changes.push({ kind: "edge", entity: edgeId, field: "moved", oldValue: { source: e.source, target: e.target }, newValue: { source: e.source === from.id ? into.id : e.source, target: e.target === from.id ? into.id : e.target } });
  }
  be.put(from.obj, K_MERGED_INTO, into.id);
  note(ctx, "entity", from.id, "merged", null, into.id);
  ctx.touched.add(into.id);
}

export function splitEntity(ctx: OpContext, sourceId: string, distribution: Record<string, string[]>): string[] {
  const src = ctx.doc.live(sourceId);
  const be = ctx.doc.be;
  const srcFacets = new Set(ctx.doc.facets(src.obj));
  const created: string[] = [];
  const moved = new Set<string>();
  for (const [newIdRaw, facetNames] of Object.entries(distribution)) {
    const facets = facetNames.map((f) => ctx.schema.facet(f).key);
    for (const f of facets) {
      if (!srcFacets.has(f)) throw new InvalidOperation(`entity ${src.id} does not carry facet ${f}`, { entity: src.id, facet: f });
      if (moved.has(f)) throw new InvalidOperation(`facet ${f} is given to two new entities`, { facet: f });
      moved.add(f);
    }
    const newId = newIdRaw.startsWith("$new") || newIdRaw === "" ? ctx.newId() : newIdRaw;
    const fields: Fields = {};
    for (const def of ctx.schema.fieldsOf(facets)) {
      if (be.get(src.obj, def.key) !== undefined) fields[def.key] = ctx.doc.readField(src.obj, def);
    }
    createEntity(ctx, newId, [], facets, fields);
    const newObj = ctx.doc.entityObj(newId) as string;
    // Table memberships whose facets all moved go along.
    for (const [table, membership] of Object.entries(ctx.doc.state(src.id, src.obj).tables)) {
      const t = ctx.schema.tables.get(table);
      if (t && t.facets.every((f) => facets.includes(f))) {
        be.put(newObj, TABLE_PREFIX + table, JSON.stringify(membership));
        be.delete(src.obj, TABLE_PREFIX + table);
        note(ctx, "table", newId, table, null, true);
        note(ctx, "table", src.id, table, true, null);
      }
    }
    // Edges follow their facet: an edge type declared by the module of a moved facet.
    const modules = new Set(facets.map((f) => ctx.schema.facet(f).module));
    for (const edgeId of liveEdgesOf(ctx, src.id)) {
      const e = ctx.doc.edge(edgeId);
      const et = e ? ctx.schema.edgeTypes.get(e.type) : undefined;
      if (!e || !et || !modules.has(et.module)) continue;
      const obj = ctx.doc.edgeObj(edgeId) as string;
      if (e.source === src.id) be.put(obj, "source", newId);
      if (e.target === src.id) be.put(obj, "target", newId);
      ctx.changes.push({ kind: "edge", entity: edgeId, field: "moved", oldValue: { source: e.source, target: e.target }, newValue: { source: e.source === src.id ? newId : e.source, target: e.target === src.id ? newId : e.target } });
    }
    created.push(newId);
  }
  for (const f of moved) {
    for (const def of ctx.schema.facet(f).fields) {
      if (be.get(src.obj, def.key) !== undefined) {
        note(ctx, "field", src.id, def.key, ctx.doc.readField(src.obj, def), null);
        be.delete(src.obj, def.key);
      }
    }
    be.put(src.obj, FACET_PREFIX + f, false);
    note(ctx, "facet", src.id, f, true, null);
  }
  return created;
}
