/**
 * One run of a script on the main thread: where its reads come from (snapshot or live,
 * canonical + overlay), where its writes go (a session overlay or straight to canonical, one
 * bundle per call). The host functions that serve its Lua calls are in lua-api-handlers.ts.
 */
import { EntityNotFound, InvalidOperation, PermissionDenied, executeQuery, parseQuery } from "../../crdt/index.ts";
import type { Actor, ConflictRecord, EdgeState, FieldDef, FieldValue, Fields, Heads, Operation, QuerySource, WorkspaceStore, WriteGate, WriteTarget } from "../../crdt/index.ts";
import type { HostValue } from "../engine/index.ts";
import { luaValue } from "./field-values.ts";
import type { OverlayBase } from "./overlay-base.ts";
import { storeBase } from "./overlay-base.ts";
import type { OverlayEntity } from "./overlay.ts";
import { Session } from "./session.ts";
import type { LoadedScript } from "./script-catalog.ts";
import type { ExecutionMode } from "./script-config.ts";
import type { Dialogs, RuntimeEvent } from "./events.ts";
import { InputLog } from "./io-wiring.ts";
import { conflictTarget, edgeLua, plain, show } from "./lua-values.ts";

// entityId moved with the other Lua-value helpers; still importable from here.
export { entityId } from "./lua-values.ts";

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
  progress: { current: number; total: number | null } | null = null;
  notes: Record<string, string[] | null> = {};
  clearNotes = false;

  constructor(
    readonly deps: ScriptRunDeps,
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

  /**
   * One field as core.get_field reads it: its definition (resolved against the entity's facets,
   * which the worker learns from `notes`) and its value. Without a session this reads that one
   * field, not the whole entity (building every field and table of it was 11 % of a trigger run).
   */
  field(id: string, name: string): { def: FieldDef; value: FieldValue | undefined } {
    const schema = this.deps.store.schema;
    if (this.mode === "session") {
      const e = this.entity(id);
      const def = schema.resolveField(name, e.facets, `entity ${id}`);
      this.notes[id] = e.facets;
      return { def, value: e.fields[def.key] };
    }
    const base = this.base(false);
    const facets = base.facetsOf(id);
    const def = schema.resolveField(name, facets, `entity ${id}`);
    this.notes[id] = facets;
    return { def, value: base.field(id, def.key) };
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

  checkRead(key: string): void {
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
  seesConflict(c: ConflictRecord): boolean {
    const caps = this.deps.capabilities;
    if (!caps) return true;
    return caps.canSee(conflictTarget(c, (id) => this.deps.store.edge(id)?.type ?? null, this.deps.store.schema.fields.has(c.field)));
  }

  /** An edge as Lua sees it: properties only where the script's grant covers its edge type. */
  edgeLua(e: EdgeState): HostValue {
    const caps = this.deps.capabilities;
    const hidden = caps !== null && caps !== undefined && !caps.canSee({ kind: "edge", type: e.type, entity: e.target });
    return edgeLua(hidden ? { ...e, properties: {} } : e);
  }

  /** The session's ops as the script may see them: values of unreadable fields left out. */
  visibleOps(ops: readonly Operation[]): Operation[] {
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

  logLine(level: "debug" | "info" | "warn" | "error", args: HostValue[]): void {
    const message = args.map(show).join("\t");
    if (this.lines.length < MAX_LOG_LINES) this.lines.push({ level, message });
    this.deps.emit({ type: "log", level, message, runId: this.runId, script: this.script.id });
    this.deps.log?.({ level, message, runId: this.runId, script: this.script.id });
  }

  emitRun(e: Record<string, unknown> & { type: string }): void {
    this.deps.emit({ ...e, runId: this.runId, script: this.script.id } as RuntimeEvent);
  }
}
