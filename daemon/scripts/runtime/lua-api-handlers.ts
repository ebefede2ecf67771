/**
 * The Lua API's handlers: one host function per `core.*`, `context.*`, `log.*` and `ui.*` path
 * of script-api.ts, each turning Lua arguments into a read or an operation of the run
 * (script-run.ts), which the bindings wrap and the gate checks.
 */
import { InvalidOperation } from "../../crdt/index.ts";
import type { CrdtEdit, FieldValue, Fields } from "../../crdt/index.ts";
import type { HostBinding, HostValue } from "../engine/index.ts";
import { luaValue } from "./field-values.ts";
import { entityId, plain, show } from "./lua-values.ts";
import { FACETS_OF, OPS_BATCH, SCRIPT_API, hostName } from "./script-api.ts";
import type { ScriptRun } from "./script-run.ts";
import type { Envelope } from "./session-worker.ts";

/** The run's host functions, as the engine binds them (see script-api.ts for their kinds). */
export function apiBindings(run: ScriptRun): Record<string, HostBinding> {
  const handlers = luaApiHandlers(run);
  const out: Record<string, HostBinding> = {};
  for (const fn of SCRIPT_API) {
    const h = handlers[fn.path];
    if (!h) continue;
    if (fn.kind === "sync") {
      out[hostName(fn.path)] = {
        kind: "sync",
        expose: false,
        fn: async (args) => {
          run.notes = {};
          run.clearNotes = false;
          const v = await h(args);
          const env: Envelope = { v: v ?? null };
          if (Object.keys(run.notes).length) env.f = run.notes;
          if (run.clearNotes) env.clear = true;
          return env as unknown as HostValue;
        },
      };
    } else if (fn.kind === "async") {
      out[hostName(fn.path)] = { kind: "async", expose: false, fn: async (args) => (await h(args)) ?? null };
    } else {
      out[hostName(fn.path)] = { kind: "event", expose: false, fn: (args) => void h(args) };
    }
  }
  out[OPS_BATCH] = { kind: "event", expose: false, fn: (args) => run.applyBatch((args[0] as HostValue[]) ?? []) };
  out[FACETS_OF] = { kind: "sync", expose: false, fn: (args) => run.facetsOf(entityId(args[0])) };
  out.print = { kind: "event", fn: (args) => run.logLine("info", args) };
  return out;
}

/** How a handler answers: a Lua value (or nothing), now or later. */
export type ApiHandler = (args: HostValue[]) => HostValue | void | Promise<HostValue | void>;

/** The handlers by API path (core.query, ui.toast...), bound to one run. */
export function luaApiHandlers(run: ScriptRun): Record<string, ApiHandler> {
  const { store } = run.deps;
  const schema = store.schema;
  const str = (v: HostValue | undefined, what: string): string => {
    if (typeof v !== "string" || v === "") throw new InvalidOperation(`${what} must be a non-empty string, got ${v === null || v === undefined ? "nil" : typeof v}`, {});
    return v;
  };
  const table = (v: HostValue | undefined): Record<string, HostValue> =>
    v !== null && v !== undefined && typeof v === "object" && !Array.isArray(v) ? (v as Record<string, HostValue>) : {};
  const fields = (v: HostValue | undefined): Fields => table(v) as Fields;
  const crdt = async (args: HostValue[], edit: CrdtEdit): Promise<void> => {
    await run.mutate({ op: "ApplyCRDT", id: entityId(args[0]), field: str(args[1], "the field name"), edit });
  };
  const text = (v: HostValue | undefined): string => {
    if (typeof v !== "string") throw new InvalidOperation(`the text must be a string, got ${v === null || v === undefined ? "nil" : typeof v}`, {});
    return v;
  };
  const num = (v: HostValue | undefined, what: string): number => {
    if (typeof v !== "number") throw new InvalidOperation(`${what} must be a number, got ${v === null || v === undefined ? "nil" : typeof v}`, {});
    return v;
  };
  const placement = (opts: Record<string, HostValue>): { after?: string; before?: string } => {
    const out: { after?: string; before?: string } = {};
    if (opts.after !== undefined && opts.after !== null) out.after = entityId(opts.after);
    if (opts.before !== undefined && opts.before !== null) out.before = entityId(opts.before);
    if (out.after && out.before) throw new InvalidOperation("give either after or before, not both", {});
    return out;
  };
  const level = (l: "debug" | "info" | "warn" | "error") => (args: HostValue[]) => run.logLine(l, args);
  const toast = (l: "info" | "warn" | "error") => (args: HostValue[]) => run.emitRun({ type: "toast", level: l, message: show(args[0] ?? "") });

  return {
    "core.query": (a) => run.query(a[0] as string, a.slice(1), run.script.config.isolation === "live").map((e) => run.toLua(e)),
    "core.query_live": (a) => run.query(a[0] as string, a.slice(1), true).map((e) => run.toLua(e)),
    "core.query_one": (a) => {
      const rows = run.query(a[0] as string, a.slice(1), run.script.config.isolation === "live");
      return rows.length ? run.toLua(rows[0]) : null;
    },
    "core.get_field": (a) => {
      const id = entityId(a[0]);
      const { def, value } = run.field(id, str(a[1], "the field name"));
      run.checkRead(def.key);
      return luaValue(def, value);
    },
    "core.schema.list_tables": () => [...schema.tables.keys()].filter((t) => run.deps.capabilities?.canSee({ kind: "table", table: t, entity: "" }) ?? true).sort(),
    "core.schema.get_fields": (a) => {
      const t = schema.table(str(a[0], "the table name"));
      return schema
        .fieldsOf(t.facets)
        .filter((d) => run.deps.capabilities?.canRead(d.key) ?? true)
        .map((d) => ({ name: d.name, key: d.key, type: d.type, facet: d.facetKey, module: d.module }));
    },
    "core.create_entity": async (a) => {
      const spec = table(a[0]);
      const tables = typeof spec.table === "string" ? [spec.table] : Array.isArray(spec.tables) ? spec.tables.map(String) : [];
      const facets = Array.isArray(spec.facets) ? spec.facets.map(String) : [];
      const r = await run.mutate({ op: "CreateEntity", tables, facets, fields: fields(spec.fields), ...(typeof spec.id === "string" ? { id: spec.id } : {}) });
      return run.toLua(run.entity(r.id as string));
    },
    "core.set_field": async (a) => {
      await run.mutate({ op: "SetField", id: entityId(a[0]), field: str(a[1], "the field name"), value: plain(a[2]) as FieldValue });
    },
    "core.delete_entity": async (a) => {
      const id = entityId(a[0]);
      await run.mutate({ op: "DeleteEntity", id }, [id]);
    },
    "core.add_to_table": async (a) => {
      const id = entityId(a[0]);
      await run.mutate({ op: "AddToTable", id, table: str(a[1], "the table name"), membership: fields(a[2]) }, [id]);
    },
    "core.remove_from_table": async (a) => {
      const id = entityId(a[0]);
      await run.mutate({ op: "RemoveFromTable", id, table: str(a[1], "the table name") }, [id]);
    },
    "core.attach_facet": async (a) => {
      const id = entityId(a[0]);
      await run.mutate({ op: "AttachFacet", id, facet: str(a[1], "the facet name"), fields: fields(a[2]) }, [id]);
    },
    "core.detach_facet": async (a) => {
      const id = entityId(a[0]);
      await run.mutate({ op: "DetachFacet", id, facet: str(a[1], "the facet name"), preserve: table(a[2]).preserve === true }, [id]);
    },
    "core.create_edge": async (a) => {
      const r = await run.mutate({ op: "CreateEdge", type: str(a[0], "the edge type"), source: entityId(a[1]), target: entityId(a[2]), properties: fields(a[3]) });
      return run.edgeToLua(r.edgeId as string);
    },
    "core.delete_edge": async (a) => {
      await run.mutate({ op: "DeleteEdge", edgeId: entityId(a[0]) });
    },
    "core.text.insert_at": (a) => crdt(a, { kind: "text.insert", index: num(a[2], "the index"), text: text(a[3]) }),
    "core.text.delete_range": (a) => crdt(a, { kind: "text.delete", start: num(a[2], "the start"), end: num(a[3], "the end") }),
    "core.text.replace_range": (a) => crdt(a, { kind: "text.replace", start: num(a[2], "the start"), end: num(a[3], "the end"), text: text(a[4]) }),
    "core.list.insert": (a) => crdt(a, { kind: "list.insert", index: num(a[2], "the index"), value: plain(a[3]) as FieldValue }),
    "core.list.append": (a) => crdt(a, { kind: "list.append", value: plain(a[2]) as FieldValue }),
    "core.list.remove": (a) => crdt(a, { kind: "list.remove", value: plain(a[2]) as FieldValue }),
    "core.list.remove_at": (a) => crdt(a, { kind: "list.remove_at", index: num(a[2], "the index") }),
    "core.create_ordered_edge": async (a) => {
      const opts = table(a[3]);
      const r = await run.mutate({
        op: "CreateOrderedEdge",
        type: str(a[0], "the edge type"),
        source: entityId(a[1]),
        target: entityId(a[2]),
        ...placement(opts),
        properties: fields(opts.properties),
      });
      return run.edgeToLua(r.edgeId as string);
    },
    "core.move_ordered_edge": async (a) => {
      const opts = table(a[1]);
      const p = placement(opts);
      await run.mutate({ op: "MoveOrderedEdge", edgeId: entityId(a[0]), ...p });
    },
    "core.query_ordered_edges": (a) => run.edges(entityId(a[0]), str(a[1], "the edge type")).map((e) => run.edgeLua(e)),
    "core.merge_entities": async (a) => {
      const into = entityId(a[0]);
      const from = entityId(a[1]);
      await run.mutate({ op: "MergeEntities", into, from, resolution: fields(a[2]) }, [into, from]);
      return run.toLua(run.entity(into));
    },
    "core.split_entity": async (a) => {
      const source = entityId(a[0]);
      const dist = table(table(a[1]).facet_distribution);
      const distribution: Record<string, string[]> = {};
      for (const [k, v] of Object.entries(dist)) distribution[k] = Array.isArray(v) ? v.map(String) : [String(v)];
      const r = await run.mutate({ op: "SplitEntity", source, distribution }, [source]);
      return (r.ids ?? []) as HostValue;
    },
    "core.commit": async (): Promise<HostValue> => {
      if (run.mode === "autoCommit") return { ok: true };
      const s = run.currentSession();
      run.clearNotes = true;
      const r = await s.commit({ actor: run.actor, origin: run.origin(), ...(run.gate ? { gate: run.gate } : {}) });
      if (r.status === "committed") {
        if (r.hash) run.bundles++;
        return { ok: true };
      }
      return { ok: false, conflicts: JSON.parse(JSON.stringify(r.conflicts)) as HostValue };
    },
    "core.discard": async () => {
      if (run.mode === "autoCommit") throw new InvalidOperation("core.discard: this run is in autoCommit mode; its bundles are already in canonical", { script: run.script.id });
      run.clearNotes = true;
      await run.currentSession().discard();
      return true;
    },
    "core.overlay.operations": () => (run.mode === "session" ? (JSON.parse(JSON.stringify(run.visibleOps(run.currentSession().overlay.ops))) as HostValue) : []),
    "core.get_conflicts": () => JSON.parse(JSON.stringify(store.conflicts().filter((c) => run.seesConflict(c)))) as HostValue,
    "core.resolve_conflict": async (a) => {
      const id = str(a[0], "the conflict id");
      if (!store.conflict(id)) throw new InvalidOperation(`conflict ${id} is not open (core.get_conflicts() lists the open ones)`, { conflict: id });
      await run.mutate({ op: "ResolveConflict", conflictId: id, value: plain(a[1]) as FieldValue });
    },
    "context.hlc_time": () => store.hlcNow(),
    "log.debug": level("debug"),
    "log.info": level("info"),
    "log.warn": level("warn"),
    "log.error": level("error"),
    "ui.toast": toast("info"),
    "ui.toast.warn": toast("warn"),
    "ui.toast.error": toast("error"),
    "ui.progress.start": (a) => {
      const total = table(a[1]).total;
      run.progress = { current: 0, total: typeof total === "number" ? total : null };
      run.emitRun({ type: "progress", phase: "start", label: show(a[0] ?? ""), current: 0, total: run.progress.total });
    },
    "ui.progress.update": (a) => {
      const current = typeof a[0] === "number" ? a[0] : 0;
      run.progress = { current, total: run.progress?.total ?? null };
      run.emitRun({ type: "progress", phase: "update", current, total: run.progress.total });
    },
    "ui.progress.complete": () => {
      run.emitRun({ type: "progress", phase: "complete", current: run.progress?.total ?? run.progress?.current ?? 0, total: run.progress?.total ?? null });
      run.progress = null;
    },
    "ui.navigate.to_view": (a) => run.emitRun({ type: "navigate", action: "to_view", target: a[0] ?? null }),
    "ui.navigate.to_entity": (a) => run.emitRun({ type: "navigate", action: "to_entity", target: a[0] ?? null }),
    "ui.navigate.filter": (a) => run.emitRun({ type: "navigate", action: "filter", target: a[0] ?? null }),
    "ui.navigate.sort": (a) => run.emitRun({ type: "navigate", action: "sort", target: a[0] ?? null, direction: typeof a[1] === "string" ? a[1] : "asc" }),
    "ui.dialog.confirm": (a) => ask(run, "confirm", a),
    "ui.dialog.prompt": (a) => ask(run, "prompt", a),
    "ui.dialog.select": (a) => ask(run, "select", a),
  };
}

async function ask(run: ScriptRun, kind: "confirm" | "prompt" | "select", args: HostValue[]): Promise<HostValue> {
  const message = String(args[0] ?? "");
  const req =
    kind === "select"
      ? { kind, message, options: Array.isArray(args[1]) ? args[1].map(String) : [] }
      : kind === "prompt"
        ? { kind, message, ...(typeof args[1] === "string" ? { default: args[1] } : {}) }
        : { kind, message };
  const answer = await run.deps.dialogs.ask({ ...req, runId: run.runId, script: run.script.id });
  run.inputs.push({ kind: `dialog.${kind}`, value: answer ?? null });
  return (answer ?? null) as HostValue;
}
