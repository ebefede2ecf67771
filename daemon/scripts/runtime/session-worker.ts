/**
 * The runtime's half inside the Lua worker (an engine worker module). It installs every script
 * function; each forwards to the main thread, except `core.set_field` in a session, the hot
 * path: validated here against a copy of the schema and a cache of entity facets, then sent in
 * batches. Queued writes are flushed before any other call, so the main thread (queries,
 * commit, progress events) always sees them first, and at every flush point (each wait on a
 * future: sleep, I/O, dialog; and every 50 ms while Lua runs), so a live preview keeps up.
 */
import { InvalidOperation } from "../../crdt/vocabulary.ts";
// The schema alone, not the crdt package: a worker must not load Automerge and LevelDB.
import { Schema } from "../../crdt/vocabulary.ts";
import type { FieldDef, SchemaSource } from "../../crdt/vocabulary.ts";
import type { HostValue, WorkerModuleContext } from "../engine/index.ts";
import { checkFieldValue } from "./field-values.ts";
import { writeRefusal } from "../capabilities/index.ts";
import { FACETS_OF, OPS_BATCH, SCRIPT_API, hostName } from "./script-api.ts";

export interface SessionWorkerOptions {
  schemaKey: string;
  schema: SchemaSource;
  /** true: set_field goes into a session overlay and can be batched. */
  batch: boolean;
  /** The run's grants as the worker applies them (see run-gating.ts); absent: ungated. */
  gate?: { script: string; hidden: string[]; writes: string[] | null };
}

/** What every main-thread sync answer looks like: the value, and facets the worker should learn or forget. */
export interface Envelope {
  v: HostValue;
  f?: Record<string, string[] | null>;
  clear?: boolean;
}

const BATCH = 512;
const schemas = new Map<string, Schema>();

interface Known {
  facets: Set<string>;
  defs: Map<string, FieldDef>;
}

export function install(ctx: WorkerModuleContext): void {
  const opts = ctx.options as unknown as SessionWorkerOptions;
  let schema = schemas.get(opts.schemaKey);
  if (!schema) {
    schema = new Schema(opts.schema);
    if (schemas.size > 8) schemas.clear();
    schemas.set(opts.schemaKey, schema);
  }
  const known = new Map<string, Known>();
  let pending: HostValue[] = [];

  const flush = (): void => {
    if (pending.length === 0) return;
    const batch = pending;
    pending = [];
    ctx.emit(OPS_BATCH, [batch]);
  };
  const absorb = (env: Envelope): HostValue => {
    if (env.clear) known.clear();
    if (env.f) {
      for (const [id, facets] of Object.entries(env.f)) {
        if (facets === null) known.delete(id);
        else known.set(id, { facets: new Set(facets), defs: new Map() });
      }
    }
    return env.v;
  };
  const call = (name: string, args: HostValue[]): HostValue => {
    flush();
    return absorb(ctx.callSync(name, args) as unknown as Envelope);
  };

  const hidden = opts.gate?.hidden ?? [];
  const writes = opts.gate?.writes ? new Set(opts.gate.writes) : null;
  for (const fn of SCRIPT_API) {
    // A ui function whose capability is not granted does not exist for the script.
    if (hidden.some((h) => fn.path.startsWith(h))) continue;
    const name = hostName(fn.path);
    if (fn.kind === "event") {
      ctx.define(fn.path, (...args) => {
        flush();
        ctx.emit(name, args);
        return null;
      });
    } else if (fn.kind === "async") {
      ctx.define(fn.path, (...args) => {
        flush();
        return ctx.callAsync(name, args);
      }, { kind: "async" });
    } else {
      ctx.define(fn.path, (...args) => call(name, args), { guarded: fn.guarded });
    }
  }

  if (opts.batch) {
    const s = schema;
    ctx.define("core.set_field", (entity, field, value) => {
      const id = entityId(entity);
      let k = known.get(id);
      if (!k) {
        flush();
        k = { facets: new Set(ctx.callSync(FACETS_OF, [id]) as string[]), defs: new Map() };
        known.set(id, k);
      }
      if (typeof field !== "string") throw new InvalidOperation(`core.set_field: the field name must be a string, got ${typeof field}`, { entity: id });
      let def = k.defs.get(field);
      if (!def) {
        def = s.resolveField(field, k.facets, `entity ${id}`);
        k.defs.set(field, def);
      }
      // The gate's rule, precomputed (writeSet) for this schema; the gate's words (writeRefusal).
      if (writes !== null && !writes.has(def.key)) throw writeRefusal("SetField", { kind: "field", key: def.key, entity: id }, s, opts.gate?.script ?? "");
      pending.push([id, def.key, checkFieldValue(def, value, id) as HostValue]);
      if (pending.length >= BATCH) flush();
      return null;
    }, { guarded: true });
  }

  ctx.onFlushPoint(flush);
  ctx.onFinish(flush);
}

function entityId(v: HostValue | undefined): string {
  if (typeof v === "string" && v !== "") return v;
  if (v !== null && typeof v === "object" && !Array.isArray(v) && typeof (v as Record<string, HostValue>).id === "string") return (v as Record<string, HostValue>).id as string;
  throw new InvalidOperation(`expected an entity id (or an entity table with an id), got ${v === null || v === undefined ? "nil" : typeof v}`, {});
}
