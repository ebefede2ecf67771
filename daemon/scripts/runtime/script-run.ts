/**
 * One run of a script on the main thread: where its reads come from (snapshot or live,
 * canonical + overlay), where its writes go (a session overlay or straight to canonical, one
 * bundle per call), and the host functions that serve its Lua calls.
 */
import { EntityNotFound, InvalidOperation, PermissionDenied, executeQuery, parseQuery } from "../../crdt/index.ts";
import type { Actor, ConflictRecord, CrdtEdit, EdgeState, FieldValue, Fields, Heads, Operation, QuerySource, WorkspaceStore, WriteGate, WriteTarget } from "../../crdt/index.ts";
import { LuaFloat } from "../engine/index.ts";
import type { HostBinding, HostValue } from "../engine/index.ts";
import { luaValue } from "./field-values.ts";
import type { OverlayBase } from "./overlay-base.ts";
import { storeBase } from "./overlay-base.ts";
import type { OverlayEntity } from "./overlay.ts";
import { Session } from "./session.ts";
import type { LoadedScript } from "./script-catalog.ts";
import type { ExecutionMode } from "./script-config.ts";
import type { Dialogs, RuntimeEvent } from "./events.ts";
import { FACETS_OF, OPS_BATCH, SCRIPT_API, hostName } from "./script-api.ts";
import type { Envelope } from "./session-worker.ts";
import { InputLog } from "./io-wiring.ts";

export interface ScriptRunDeps {
  store: WorkspaceStore;
  emit: (e: RuntimeEvent) => void;
  dialogs: Dialogs;
  log?: (entry: { level: string; message: string; runId: string; script: string }) => void;
  /** Registers a session the run opened with the runtime. */
  adopt: (s: Session) => void;
  /** When given, data.write / data.read are enforced on core calls. */
  capabilities?: ScriptCapabilities | null;
  /** More origin metadata for the run's bundles (module, external inputs so far: see runtime.ts). */
  originExtra?: () => Record<string, unknown>;
  /** How many external inputs the run had consumed: each overlay op notes it (replay reports). */
  inputMark?: () => number;
}

/** The part of a run's grant the runtime checks, live (a revocation is felt at the next call). */
export interface ScriptCapabilities {
  canWrite(fieldKey: string): boolean;
  canRead(fieldKey: string): boolean;
  /** Whether a facet, table, edge type or field is visible to the script (its data.read grant). */
  canSee(target: WriteTarget): boolean;
  readDenied(fieldKey: string): PermissionDenied;
  /** Every operation passes it inside the interpreter (capabilities' writeGate). */
  gate: WriteGate;
}

export interface RunLogLine {
  level: string;
  message: string;
}

const MAX_LOG_LINES = 1000;

export class ScriptRun {
  session: Session | null = null;
  readonly sessions: Session[] = [];
  /** Mutations made: ops put in overlays or bundles written. */
  ops = 0;
  bundles = 0;
  readonly lines: RunLogLine[] = [];
  /** External inputs read (dialog answers, OSC/MIDI/HTTP), recorded for replay; bounded. */
  readonly inputs = new InputLog();
  /** on_shutdown() started: its writes go to a session of their own (see enterShutdown). */
  shutdownStarted = false;
  /** The session main was writing to when on_shutdown started. */
  mainSession: Session | null = null;
  /** Failures of batched writes that reached the main thread after the script moved on. */
  readonly lateSkips: { binding: string; error: { type: string; message: string } }[] = [];
  private progress: { current: number; total: number | null } | null = null;
  private notes: Record<string, string[] | null> = {};
  private clearNotes = false;

  constructor(
    private readonly deps: ScriptRunDeps,
    readonly runId: string,
    readonly script: LoadedScript,
    readonly mode: ExecutionMode,
    readonly heads: Heads,
    readonly startHlc: string,
    readonly user: string | undefined,
    readonly chain: unknown,
  ) {}

  get actor(): Actor {
    return { kind: "script", name: this.script.id, runId: this.runId };
  }

  origin(): Record<string, unknown> {
    const o: Record<string, unknown> = { script: this.script.id, hash: this.script.hash, runId: this.runId };
    if (this.chain !== undefined) o.chain = this.chain;
    if (this.deps.originExtra) Object.assign(o, this.deps.originExtra());
    return o;
  }

  /** The session the next write goes to; a new one (fresh snapshot) after a commit or discard. */
  currentSession(): Session {
    if (this.session && this.session.status === "open") return this.session;
    const { store } = this.deps;
    const n = this.sessions.length;
    const s = new Session(
      { store, emit: this.deps.emit, progress: () => this.progress, inputMark: this.deps.inputMark },
      {
        id: n === 0 ? `s-${this.runId}` : `s-${this.runId}-${n + 1}`,
        scriptId: this.script.id,
        runId: this.runId,
        hash: this.script.hash,
        chain: this.chain,
        isolation: this.script.config.isolation,
        heads: n === 0 ? this.heads : store.heads(),
        startHlc: n === 0 ? this.startHlc : store.hlcNow(),
        user: this.user,
        resolutions: {},
      },
    );
    s.persistHeader();
    this.session = s;
    this.sessions.push(s);
    this.deps.adopt(s);
    return s;
  }

  /**
   * on_shutdown() begins. In session mode its writes get a fresh session, so they can commit
   * on their own when it finishes in time (spec: "on_shutdown() completes in time: its bundles
   * commit") whatever happens to main's overlay, and are discarded when it overruns.
   */
  enterShutdown(): void {
    if (this.shutdownStarted) return;
    this.shutdownStarted = true;
    this.mainSession = this.session;
    this.session = null;
  }

  // ------------------------------------------------------------------ reads

  private base(live: boolean): OverlayBase {
    if (this.mode === "autoCommit") return storeBase(this.deps.store);
    const s = this.currentSession();
    return live ? s.liveBase() : s.base();
  }

  query(q: string, params: HostValue[], live: boolean): OverlayEntity[] {
    if (typeof q !== "string") throw new InvalidOperation(`core.query: the query must be a string, got ${typeof q}`, {});
    const base = this.base(live);
    const s = this.mode === "session" ? this.currentSession() : null;
    const src = s ? s.overlay.querySource(base) : base.querySource();
    const ids = executeQuery(parseQuery(q), params.map(plain), this.readGated(src, q));
    return ids.map((id) => this.entity(id, base));
  }

  entity(id: string, base: OverlayBase = this.base(false)): OverlayEntity {
    const s = this.mode === "session" ? this.currentSession() : null;
    if (s) return s.overlay.entity(id, base);
    const e = base.entity(id);
    return { id: e.id, facets: e.facets, tables: Object.keys(e.tables), fields: e.fields };
  }

  facetsOf(id: string): string[] {
    const base = this.base(false);
    const s = this.mode === "session" ? this.currentSession() : null;
    return s ? s.overlay.facetsOf(id, base) : base.facetsOf(id);
  }

  toLua(e: OverlayEntity): HostValue {
    const schema = this.deps.store.schema;
    const facets = new Set(e.facets);
    const shortCount = new Map<string, number>();
    for (const def of schema.fieldsOf(facets)) shortCount.set(def.name, (shortCount.get(def.name) ?? 0) + 1);
    const out: Record<string, HostValue> = { id: e.id };
    for (const [key, v] of Object.entries(e.fields)) {
      const def = schema.fields.get(key);
      // data.read: a field the script may not read is left out, as if it were unset.
      if (!def || !facets.has(def.facetKey) || (this.deps.capabilities && !this.deps.capabilities.canRead(key))) continue;
      const lv = luaValue(def, v);
      out[key] = lv;
      if (shortCount.get(def.name) === 1) out[def.name] = lv;
    }
    this.notes[e.id] = e.facets;
    return out;
  }

  edges(target: string, type: string): EdgeState[] {
    const base = this.base(false);
    const s = this.mode === "session" ? this.currentSession() : null;
    if (s) return s.overlay.orderedEdges(target, type, base);
    return this.deps.store.orderedEdges(target, type, base.heads ? { heads: base.heads } : {});
  }

  edgeToLua(id: string): HostValue {
    const base = this.base(false);
    const s = this.mode === "session" ? this.currentSession() : null;
    const e = s ? s.overlay.edge(id, base) : base.edge(id);
    if (!e) throw new EntityNotFound(`edge ${id} does not exist`, { edge: id });
    return this.edgeLua(e);
  }

  // ----------------------------------------------------------------- writes

  async mutate(op: Operation, affected: string[] = []): Promise<{ id?: string; edgeId?: string; ids?: string[] }> {
    for (const id of affected) this.notes[id] = null;
    const gate = this.gate;
    if (this.mode === "session") {
      const s = this.currentSession();
      const r = s.apply(op, s.base(), gate);
      this.ops++;
      return r;
    }
    const r = await this.deps.store.apply([op], { actor: this.actor, origin: this.origin() }, gate ? { gate } : {});
    this.ops++;
    if (r.hash) this.bundles++;
    return r.results[0] ?? {};
  }

  /** The run's write gate; undefined for an ungated run (no capability provider). */
  get gate(): WriteGate | undefined {
    return this.deps.capabilities?.gate;
  }

  private checkRead(key: string): void {
    const caps = this.deps.capabilities;
    if (caps && !caps.canRead(key)) throw caps.readDenied(key);
  }

  /**
   * Every field a query names (in WHERE, ORDER BY or IN) goes through resolveField while it is
   * bound: refusing unreadable ones there closes the side channel of filtering or ordering on
   * a field whose values the script may not see.
   */
  private readGated(src: QuerySource, q: string): QuerySource {
    const caps = this.deps.capabilities;
    if (!caps) return src;
    return {
      ...src,
      resolveField: (name, tables) => {
        const key = src.resolveField(name, tables);
        if (!caps.canRead(key)) {
          const d = caps.readDenied(key);
          throw new PermissionDenied(`${d.message}; the query ${JSON.stringify(q)} mentions it`, { ...(d.details as Record<string, unknown>), query: q });
        }
        return key;
      },
    };
  }

  /** Whether a conflict's field (or structural key, or edge) is visible to the script. */
  private seesConflict(c: ConflictRecord): boolean {
    const caps = this.deps.capabilities;
    if (!caps) return true;
    return caps.canSee(conflictTarget(c, (id) => this.deps.store.edge(id)?.type ?? null, this.deps.store.schema.fields.has(c.field)));
  }

  /** An edge as Lua sees it: properties only where the script's grant covers its edge type. */
  private edgeLua(e: EdgeState): HostValue {
    const caps = this.deps.capabilities;
    const hidden = caps !== null && caps !== undefined && !caps.canSee({ kind: "edge", type: e.type, entity: e.target });
    return edgeLua(hidden ? { ...e, properties: {} } : e);
  }

  /** The session's ops as the script may see them: values of unreadable fields left out. */
  private visibleOps(ops: readonly Operation[]): Operation[] {
    const caps = this.deps.capabilities;
    if (!caps) return [...ops];
    const fields = (f: Fields | undefined): Fields => Object.fromEntries(Object.entries(f ?? {}).filter(([k]) => caps.canRead(k)));
    const out: Operation[] = [];
    for (const op of ops) {
      if ((op.op === "SetField" || op.op === "ApplyCRDT") && !caps.canRead(op.field)) continue;
      if (op.op === "CreateEntity" || op.op === "AttachFacet") out.push({ ...op, fields: fields(op.fields) });
      else if (op.op === "MergeEntities") out.push({ ...op, resolution: fields(op.resolution) });
      else out.push(op);
    }
    return out;
  }

  /** A batch of set_field calls the worker already validated. */
  applyBatch(batch: HostValue[]): void {
    const s = this.currentSession();
    const base = s.base();
    for (const item of batch) {
      const [id, key, value] = item as [string, string, FieldValue];
      try {
        s.setField(id, key, value, base, this.gate);
        this.ops++;
      } catch (e) {
        const err = e as { code?: string; message: string };
        this.lateSkips.push({ binding: "core.set_field", error: { type: err.code ?? "InternalError", message: err.message } });
      }
    }
  }

  // --------------------------------------------------------------- bindings

  bindings(): Record<string, HostBinding> {
    const handlers = this.handlers();
    const out: Record<string, HostBinding> = {};
    for (const fn of SCRIPT_API) {
      const h = handlers[fn.path];
      if (!h) continue;
      if (fn.kind === "sync") {
        out[hostName(fn.path)] = {
          kind: "sync",
          expose: false,
          fn: async (args) => {
            this.notes = {};
            this.clearNotes = false;
            const v = await h(args);
            const env: Envelope = { v: v ?? null };
            if (Object.keys(this.notes).length) env.f = this.notes;
            if (this.clearNotes) env.clear = true;
            return env as unknown as HostValue;
          },
        };
      } else if (fn.kind === "async") {
        out[hostName(fn.path)] = { kind: "async", expose: false, fn: async (args) => (await h(args)) ?? null };
      } else {
        out[hostName(fn.path)] = { kind: "event", expose: false, fn: (args) => void h(args) };
      }
    }
    out[OPS_BATCH] = { kind: "event", expose: false, fn: (args) => this.applyBatch((args[0] as HostValue[]) ?? []) };
    out[FACETS_OF] = { kind: "sync", expose: false, fn: (args) => this.facetsOf(entityId(args[0])) };
    out.print = { kind: "event", fn: (args) => this.logLine("info", args) };
    return out;
  }

  logLine(level: "debug" | "info" | "warn" | "error", args: HostValue[]): void {
    const message = args.map(show).join("\t");
    if (this.lines.length < MAX_LOG_LINES) this.lines.push({ level, message });
    this.deps.emit({ type: "log", level, message, runId: this.runId, script: this.script.id });
    this.deps.log?.({ level, message, runId: this.runId, script: this.script.id });
  }

  private emitRun(e: Record<string, unknown> & { type: string }): void {
    this.deps.emit({ ...e, runId: this.runId, script: this.script.id } as RuntimeEvent);
  }

  private async ask(kind: "confirm" | "prompt" | "select", args: HostValue[]): Promise<HostValue> {
    const message = String(args[0] ?? "");
    const req =
      kind === "select"
        ? { kind, message, options: Array.isArray(args[1]) ? args[1].map(String) : [] }
        : kind === "prompt"
          ? { kind, message, ...(typeof args[1] === "string" ? { default: args[1] } : {}) }
          : { kind, message };
    const answer = await this.deps.dialogs.ask({ ...req, runId: this.runId, script: this.script.id });
    this.inputs.push({ kind: `dialog.${kind}`, value: answer ?? null });
    return (answer ?? null) as HostValue;
  }

  private handlers(): Record<string, (args: HostValue[]) => HostValue | void | Promise<HostValue | void>> {
    const { store } = this.deps;
    const schema = store.schema;
    const str = (v: HostValue | undefined, what: string): string => {
      if (typeof v !== "string" || v === "") throw new InvalidOperation(`${what} must be a non-empty string, got ${v === null || v === undefined ? "nil" : typeof v}`, {});
      return v;
    };
    const table = (v: HostValue | undefined): Record<string, HostValue> =>
      v !== null && v !== undefined && typeof v === "object" && !Array.isArray(v) ? (v as Record<string, HostValue>) : {};
    const fields = (v: HostValue | undefined): Fields => table(v) as Fields;
    const crdt = async (args: HostValue[], edit: CrdtEdit): Promise<void> => {
      await this.mutate({ op: "ApplyCRDT", id: entityId(args[0]), field: str(args[1], "the field name"), edit });
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
    const level = (l: "debug" | "info" | "warn" | "error") => (args: HostValue[]) => this.logLine(l, args);
    const toast = (l: "info" | "warn" | "error") => (args: HostValue[]) => this.emitRun({ type: "toast", level: l, message: show(args[0] ?? "") });

    return {
      "core.query": (a) => this.query(a[0] as string, a.slice(1), this.script.config.isolation === "live").map((e) => this.toLua(e)),
      "core.query_live": (a) => this.query(a[0] as string, a.slice(1), true).map((e) => this.toLua(e)),
      "core.query_one": (a) => {
        const rows = this.query(a[0] as string, a.slice(1), this.script.config.isolation === "live");
        return rows.length ? this.toLua(rows[0]) : null;
      },
      "core.get_field": (a) => {
        const id = entityId(a[0]);
        const e = this.entity(id);
        const def = schema.resolveField(str(a[1], "the field name"), e.facets, `entity ${id}`);
        this.notes[id] = e.facets;
        this.checkRead(def.key);
        return luaValue(def, e.fields[def.key]);
      },
      "core.schema.list_tables": () => [...schema.tables.keys()].filter((t) => this.deps.capabilities?.canSee({ kind: "table", table: t, entity: "" }) ?? true).sort(),
      "core.schema.get_fields": (a) => {
        const t = schema.table(str(a[0], "the table name"));
        return schema
          .fieldsOf(t.facets)
          .filter((d) => this.deps.capabilities?.canRead(d.key) ?? true)
          .map((d) => ({ name: d.name, key: d.key, type: d.type, facet: d.facetKey, module: d.module }));
      },
      "core.create_entity": async (a) => {
        const spec = table(a[0]);
        const tables = typeof spec.table === "string" ? [spec.table] : Array.isArray(spec.tables) ? spec.tables.map(String) : [];
        const facets = Array.isArray(spec.facets) ? spec.facets.map(String) : [];
        const r = await this.mutate({ op: "CreateEntity", tables, facets, fields: fields(spec.fields), ...(typeof spec.id === "string" ? { id: spec.id } : {}) });
        return this.toLua(this.entity(r.id as string));
      },
      "core.set_field": async (a) => {
        await this.mutate({ op: "SetField", id: entityId(a[0]), field: str(a[1], "the field name"), value: plain(a[2]) as FieldValue });
      },
      "core.delete_entity": async (a) => {
        const id = entityId(a[0]);
        await this.mutate({ op: "DeleteEntity", id }, [id]);
      },
      "core.add_to_table": async (a) => {
        const id = entityId(a[0]);
        await this.mutate({ op: "AddToTable", id, table: str(a[1], "the table name"), membership: fields(a[2]) }, [id]);
      },
      "core.remove_from_table": async (a) => {
        const id = entityId(a[0]);
        await this.mutate({ op: "RemoveFromTable", id, table: str(a[1], "the table name") }, [id]);
      },
      "core.attach_facet": async (a) => {
        const id = entityId(a[0]);
        await this.mutate({ op: "AttachFacet", id, facet: str(a[1], "the facet name"), fields: fields(a[2]) }, [id]);
      },
      "core.detach_facet": async (a) => {
        const id = entityId(a[0]);
        await this.mutate({ op: "DetachFacet", id, facet: str(a[1], "the facet name"), preserve: table(a[2]).preserve === true }, [id]);
      },
      "core.create_edge": async (a) => {
        const r = await this.mutate({ op: "CreateEdge", type: str(a[0], "the edge type"), source: entityId(a[1]), target: entityId(a[2]), properties: fields(a[3]) });
        return this.edgeToLua(r.edgeId as string);
      },
      "core.delete_edge": async (a) => {
        await this.mutate({ op: "DeleteEdge", edgeId: entityId(a[0]) });
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
        const r = await this.mutate({
          op: "CreateOrderedEdge",
          type: str(a[0], "the edge type"),
          source: entityId(a[1]),
          target: entityId(a[2]),
          ...placement(opts),
          properties: fields(opts.properties),
        });
        return this.edgeToLua(r.edgeId as string);
      },
      "core.move_ordered_edge": async (a) => {
        const opts = table(a[1]);
        const p = placement(opts);
        await this.mutate({ op: "MoveOrderedEdge", edgeId: entityId(a[0]), ...p });
      },
      "core.query_ordered_edges": (a) => this.edges(entityId(a[0]), str(a[1], "the edge type")).map((e) => this.edgeLua(e)),
      "core.merge_entities": async (a) => {
        const into = entityId(a[0]);
        const from = entityId(a[1]);
        await this.mutate({ op: "MergeEntities", into, from, resolution: fields(a[2]) }, [into, from]);
        return this.toLua(this.entity(into));
      },
      "core.split_entity": async (a) => {
        const source = entityId(a[0]);
        const dist = table(table(a[1]).facet_distribution);
        const distribution: Record<string, string[]> = {};
        for (const [k, v] of Object.entries(dist)) distribution[k] = Array.isArray(v) ? v.map(String) : [String(v)];
        const r = await this.mutate({ op: "SplitEntity", source, distribution }, [source]);
        return (r.ids ?? []) as HostValue;
      },
      "core.commit": async (): Promise<HostValue> => {
        if (this.mode === "autoCommit") return { ok: true };
        const s = this.currentSession();
        this.clearNotes = true;
        const r = await s.commit({ actor: this.actor, origin: this.origin(), ...(this.gate ? { gate: this.gate } : {}) });
        if (r.status === "committed") {
          if (r.hash) this.bundles++;
          return { ok: true };
        }
        return { ok: false, conflicts: JSON.parse(JSON.stringify(r.conflicts)) as HostValue };
      },
      "core.discard": async () => {
        if (this.mode === "autoCommit") throw new InvalidOperation("core.discard: this run is in autoCommit mode; its bundles are already in canonical", { script: this.script.id });
        this.clearNotes = true;
        await this.currentSession().discard();
        return true;
      },
      "core.overlay.operations": () => (this.mode === "session" ? (JSON.parse(JSON.stringify(this.visibleOps(this.currentSession().overlay.ops))) as HostValue) : []),
      "core.get_conflicts": () => JSON.parse(JSON.stringify(store.conflicts().filter((c) => this.seesConflict(c)))) as HostValue,
      "core.resolve_conflict": async (a) => {
        const id = str(a[0], "the conflict id");
        if (!store.conflict(id)) throw new InvalidOperation(`conflict ${id} is not open (core.get_conflicts() lists the open ones)`, { conflict: id });
        await this.mutate({ op: "ResolveConflict", conflictId: id, value: plain(a[1]) as FieldValue });
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
        this.progress = { current: 0, total: typeof total === "number" ? total : null };
        this.emitRun({ type: "progress", phase: "start", label: show(a[0] ?? ""), current: 0, total: this.progress.total });
      },
      "ui.progress.update": (a) => {
        const current = typeof a[0] === "number" ? a[0] : 0;
        this.progress = { current, total: this.progress?.total ?? null };
        this.emitRun({ type: "progress", phase: "update", current, total: this.progress.total });
      },
      "ui.progress.complete": () => {
        this.emitRun({ type: "progress", phase: "complete", current: this.progress?.total ?? this.progress?.current ?? 0, total: this.progress?.total ?? null });
        this.progress = null;
      },
      "ui.navigate.to_view": (a) => this.emitRun({ type: "navigate", action: "to_view", target: a[0] ?? null }),
      "ui.navigate.to_entity": (a) => this.emitRun({ type: "navigate", action: "to_entity", target: a[0] ?? null }),
      "ui.navigate.filter": (a) => this.emitRun({ type: "navigate", action: "filter", target: a[0] ?? null }),
      "ui.navigate.sort": (a) => this.emitRun({ type: "navigate", action: "sort", target: a[0] ?? null, direction: typeof a[1] === "string" ? a[1] : "asc" }),
      "ui.dialog.confirm": (a) => this.ask("confirm", a),
      "ui.dialog.prompt": (a) => this.ask("prompt", a),
      "ui.dialog.select": (a) => this.ask("select", a),
    };
  }
}

export function entityId(v: HostValue | undefined): string {
  if (typeof v === "string" && v !== "") return v;
  if (v !== null && v !== undefined && typeof v === "object" && !Array.isArray(v) && typeof (v as Record<string, HostValue>).id === "string") {
    return (v as Record<string, HostValue>).id as string;
  }
  throw new InvalidOperation(`expected an id (or a table with an id), got ${v === null || v === undefined ? "nil" : typeof v}`, {});
}

/** What a conflict is about, as a write target (the same words the gate and the read grants use). */
function conflictTarget(c: ConflictRecord, edgeType: (id: string) => string | null, isField: boolean): WriteTarget {
  if (c.container === "edge") {
    const type = edgeType(c.entity);
    return type === null ? { kind: "entity", entity: c.entity } : { kind: "edge", type, entity: c.entity };
  }
  if (isField) return { kind: "field", key: c.field, entity: c.entity };
  if (c.field.startsWith("@table:")) return { kind: "table", table: c.field.slice("@table:".length), entity: c.entity };
  if (c.field.startsWith("@facet:")) return { kind: "facet", facet: c.field.slice("@facet:".length), entity: c.entity };
  return { kind: "entity", entity: c.entity };
}

function edgeLua(e: EdgeState): HostValue {
  return { id: e.id, type: e.type, source_id: e.source, target_id: e.target, position: e.position, properties: e.properties as HostValue };
}

/** Plain JS data (LuaFloat unwrapped) for the store and the query engine. */
function plain(v: HostValue | undefined): unknown {
  if (v === undefined) return null;
  if (v instanceof LuaFloat) return v.value;
  if (Array.isArray(v)) return v.map(plain);
  if (v !== null && typeof v === "object") {
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, plain(x)]));
  }
  return v;
}

function show(v: HostValue | undefined): string {
  if (v === null || v === undefined) return "nil";
  if (typeof v === "object") {
    try {
      return JSON.stringify(v);
    } catch {
      return "(table)";
    }
  }
  return String(v);
}
