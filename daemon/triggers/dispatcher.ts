/**
 * Turns the store's change feed into trigger runs. For each durable change
 * event (local ones; remote ones only for triggers with `remote = true`),
 * every field change a trigger watches is checked against `when` (nothing
 * starts when it is false), its scope edge is followed, its params resolved,
 * and a run is queued through the TriggerRunner seam. Every firing leaves a
 * trace. Overlay (session) writes never reach the change feed, so they fire
 * nothing until committed.
 */
import type { ChangeEvent, ChangeListener, FieldChange } from "../crdt/index.ts";
import type { BundleInfo, FieldValue } from "../crdt/vocabulary.ts";
import { evaluateCondition } from "../crdt/query/index.ts";
import type { EdgeState } from "../crdt/index.ts";
import { MAX_CHAIN_AGE_MS, MAX_CHAIN_DEPTH, chainExceeded, chainFor } from "./causal-chain.ts";
import type { ChainLimits } from "./causal-chain.ts";
import { RunQueue } from "./run-queue.ts";
import type { CausalChain, TriggerRunner, TriggerRunRequest } from "./runner.ts";
import { TraceLog } from "./trace-log.ts";
import type { TriggerTrace } from "./trace-log.ts";
import type { RejectedTrigger, TriggerDef } from "./trigger-def.ts";
import type { TriggerSummary } from "../../protocol/index.ts";
// The wire's own words (protocol/): the daemon keeps no second copy of them.
export type { TriggerSummary };

/** The part of the store triggers use. */
export interface TriggerStore {
  onChange(listener: ChangeListener): () => void;
  getField(id: string, name: string): FieldValue;
  edgesOf(entity: string, opts: { type?: string; direction?: "out" | "in" | "both" }): EdgeState[];
}

/** Notifications for clients (the socket fans them out). */
export type TriggerEvent =
  | { type: "trigger.chain_stopped"; trigger: string; entity: string; chain: CausalChain; reason: "depth" | "age"; message: string }
  | { type: "trigger.run_failed"; trigger: string; entity: string; runId: string | null; error: { type: string; message: string } };

export interface TriggerDispatcherOptions {
  store: TriggerStore;
  triggers: readonly TriggerDef[];
  /** Shown by list() so a client can say why a configured trigger does nothing. */
  rejected?: readonly RejectedTrigger[];
  runner: TriggerRunner;
  events?: (event: TriggerEvent) => void;
  now?: () => number;
  /** Runs at once, across all triggers. Default 4. */
  maxConcurrent?: number;
  maxChainDepth?: number;
  maxChainAgeMs?: number;
}

interface Firing {
  def: TriggerDef;
  change: FieldChange;
  bundleIndex: number;
  order: number;
}

export class TriggerDispatcher {
  private readonly byField = new Map<string, TriggerDef[]>();
  private readonly remoteByField = new Map<string, TriggerDef[]>();
  private readonly logs = new Map<string, TraceLog>();
  private readonly fired = new Map<string, number>();
  private readonly queue: RunQueue;
  private readonly now: () => number;
  private readonly limits: ChainLimits;
  private unsubscribe: (() => void) | null = null;
  private seq = 0;
  private triggers: readonly TriggerDef[] = [];
  private rejected: readonly RejectedTrigger[] = [];

  constructor(private readonly opts: TriggerDispatcherOptions) {
    this.now = opts.now ?? Date.now;
    this.queue = new RunQueue(opts.maxConcurrent ?? 4);
    this.limits = { maxDepth: opts.maxChainDepth ?? MAX_CHAIN_DEPTH, maxAgeMs: opts.maxChainAgeMs ?? MAX_CHAIN_AGE_MS };
    this.reconfigure(opts.triggers, opts.rejected ?? []);
  }

  /**
   * Replaces the trigger set (a live config reload): later changes fire the new triggers only.
   * A trigger kept by name keeps its traces and fired count; runs already queued still run.
   */
  reconfigure(triggers: readonly TriggerDef[], rejected: readonly RejectedTrigger[] = []): void {
    const names = new Set<string>();
    for (const def of triggers) {
      if (names.has(def.name)) throw new Error(`trigger "${def.name}" is given twice`);
      names.add(def.name);
    }
    this.byField.clear();
    this.remoteByField.clear();
    for (const def of triggers) {
      addTo(this.byField, def.field.key, def);
      if (def.remote) addTo(this.remoteByField, def.field.key, def);
      // A kept trigger keeps its log (and its ring size): firings still in flight settle into it.
      if (!this.logs.has(def.name)) this.logs.set(def.name, new TraceLog(def.maxTraces));
      if (!this.fired.has(def.name)) this.fired.set(def.name, 0);
    }
    for (const name of [...this.logs.keys()]) {
      if (names.has(name)) continue;
      this.logs.delete(name);
      this.fired.delete(name);
    }
    this.triggers = triggers;
    this.rejected = rejected;
  }

  /** Subscribes to the store's change feed. */
  start(): void {
    if (this.unsubscribe === null) this.unsubscribe = this.opts.store.onChange((e) => this.handle(e));
  }

  /** Stops reacting to changes; runs already queued still run (await idle()). */
  stop(): void {
    this.unsubscribe?.();
    this.unsubscribe = null;
  }

  /** Resolves when no run is queued or running. */
  idle(): Promise<void> {
    return this.queue.idle();
  }

  /** Kept traces of one trigger, oldest first. */
  traces(trigger: string): TriggerTrace[] {
    return this.logs.get(trigger)?.list() ?? [];
  }

  list(): TriggerSummary[] {
    return summarizeTriggers(this.triggers, this.rejected, (name) => ({ fired: this.fired.get(name) ?? 0, pending: this.logs.get(name)?.pending ?? 0 }));
  }

  /** One change event from the feed (public so a test or a replay can feed events directly). */
  handle(event: ChangeEvent): void {
    const watched = event.origin === "local" ? this.byField : this.remoteByField;
    if (watched.size === 0) return;
    const firings: Firing[] = [];
    const last = event.bundles.length - 1;
    for (const change of event.changes) {
      if (change.kind !== "field") continue;
      const defs = watched.get(change.field);
      if (defs === undefined) continue;
      const bundleIndex = change.bundle === undefined ? last : event.bundles.findIndex((b) => b.hash === change.bundle);
      for (const def of defs) firings.push({ def, change, bundleIndex, order: firings.length });
    }
    if (firings.length === 0) return;
    // Bundle order, then entity id: the order runs are queued in, the same on every replay.
    firings.sort(
      (a, b) =>
        a.bundleIndex - b.bundleIndex ||
        (a.change.entity < b.change.entity ? -1 : a.change.entity > b.change.entity ? 1 : 0) ||
        a.order - b.order,
    );
    for (const f of firings) this.fire(f.def, f.change, event.bundles[f.bundleIndex] ?? event.bundles[last], event.origin);
  }

  private fire(def: TriggerDef, change: FieldChange, bundle: BundleInfo | undefined, origin: "local" | "remote"): void {
    const log = this.logs.get(def.name) as TraceLog;
    this.fired.set(def.name, (this.fired.get(def.name) ?? 0) + 1);
    const now = this.now();
    const entity = change.entity;
    const trace: TriggerTrace = {
      seq: ++this.seq,
      trigger: def.name,
      at: now,
      origin,
      bundle: bundle?.hash ?? null,
      entity,
      field: change.field,
      oldValue: change.oldValue ?? null,
      newValue: change.newValue ?? null,
      condition: null,
      scope: null,
      args: null,
      chain: chainFor(bundle, now),
      status: "queued",
      runId: null,
      runStatus: null,
      error: null,
      reason: null,
    };
    const end = (status: TriggerTrace["status"], reason: string | null): void => {
      trace.status = status;
      trace.reason = reason;
      log.settle(trace);
    };

    const scope = (): string | null => {
      if (trace.scope === null) trace.scope = this.followScope(def.scope as string, entity);
      return trace.scope.entity;
    };

    if (def.when !== null) {
      try {
        trace.condition = evaluateCondition(def.when, (name) => {
          switch (name) {
            case "new_value":
              return trace.newValue;
            case "old_value":
              return trace.oldValue;
            case "source":
              return entity;
            case "scope_entity_id":
              return scope();
          }
          const field = def.whenFields.get(name);
          return field === undefined ? null : this.read(entity, field.key);
        });
      } catch (e) {
        trace.error = errorOf(e);
        return end("failed", `the condition ${JSON.stringify(def.when.source)} could not be evaluated`);
      }
      if (!trace.condition) return end("filtered", `when ${JSON.stringify(def.when.source)} is false`);
    }

    if (def.scope !== null && scope() === null) {
      return end("no_scope", `entity ${entity} has no "${def.scope}" edge, so there is no scope entity`);
    }

    const stop = chainExceeded(trace.chain, now, this.limits);
    if (stop !== null) return this.stopChain(def, trace, stop, end);

    const args: Record<string, unknown> = {};
    for (const [key, src] of Object.entries(def.params)) {
      switch (src.kind) {
        case "literal":
          args[key] = src.value;
          break;
        case "source":
          args[key] = entity;
          break;
        case "source_field":
          args[key] = this.read(entity, src.field.key);
          break;
        case "scope_entity_id":
          args[key] = scope();
          break;
        case "old_value":
          args[key] = trace.oldValue;
          break;
        case "new_value":
          args[key] = trace.newValue;
          break;
      }
    }
    trace.args = args;
    const req: TriggerRunRequest = {
      trigger: def.name,
      script: def.script,
      args,
      context: { trigger_entity: entity, trigger_field: change.field, old_value: trace.oldValue, new_value: trace.newValue },
      chain: trace.chain,
    };
    if (def.mode !== undefined) req.mode = def.mode;
    if (def.supersede) req.supersede = `${def.name}\0${def.scope !== null ? (scope() ?? entity) : entity}`;

    log.begin(trace);
    const submitted = this.queue.submit({
      seq: trace.seq,
      key: `${def.name}\0${entity}`,
      mode: def.concurrency,
      dropped: () => end("superseded", `replaced by a newer firing for ${entity} before it started (concurrency = "restart")`),
      start: (signal) => this.run(def, trace, req, signal, end),
    });
    if (submitted === "skipped") end("skipped", `a run for ${entity} was still going (concurrency = "single")`);
  }

  private async run(
    def: TriggerDef,
    trace: TriggerTrace,
    req: TriggerRunRequest,
    signal: AbortSignal,
    end: (status: TriggerTrace["status"], reason: string | null) => void,
  ): Promise<void> {
    // A run may have waited in the queue: the chain's age is checked again as it starts. A chain
    // at depth 0 is a person's (or app's) own change, which cannot be a loop: its clock starts
    // when its first automated run does, so a bulk edit's queue is not mistaken for a runaway.
    const now = this.now();
    if (trace.chain.depth === 0) {
      trace.chain = { ...trace.chain, startedAt: now };
      req.chain = { ...req.chain, startedAt: now };
    }
    const stop = chainExceeded(trace.chain, now, this.limits);
    if (stop !== null) return this.stopChain(def, trace, stop, end);
    trace.status = "running";
    try {
      const outcome = await this.opts.runner.run(req, signal);
      trace.runId = outcome.runId;
      trace.runStatus = outcome.status;
      trace.error = outcome.error ?? null;
    } catch (e) {
      trace.runStatus = "failed";
      trace.error = errorOf(e);
    }
    if (trace.runStatus === "ok") return end("ok", null);
    if (signal.aborted) return end("cancelled", `cancelled by a newer firing for ${trace.entity} (concurrency = "restart")`);
    end("failed", trace.error?.message ?? `the run ended with status "${trace.runStatus}"`);
    this.opts.events?.({
      type: "trigger.run_failed",
      trigger: def.name,
      entity: trace.entity,
      runId: trace.runId,
      error: trace.error ?? { type: "InvalidOperation", message: `run ended with status "${trace.runStatus}"` },
    });
  }

  private stopChain(
    def: TriggerDef,
    trace: TriggerTrace,
    stop: { reason: "depth" | "age"; message: string },
    end: (status: TriggerTrace["status"], reason: string | null) => void,
  ): void {
    trace.error = { type: "Timeout", message: `trigger ${def.name}: ${stop.message}` };
    end("stopped", stop.message);
    this.opts.events?.({
      type: "trigger.chain_stopped",
      trigger: def.name,
      entity: trace.entity,
      chain: trace.chain,
      reason: stop.reason,
      message: trace.error.message,
    });
  }

  /**
   * The entity at the other end of the scope edge: outgoing edges first (a
   * cue's `scene` edge points at its scene), else incoming; with several, the
   * first by edge id, and the trace says so.
   */
  private followScope(edgeType: string, entity: string): { edgeType: string; entity: string | null; note?: string } {
    let edges: EdgeState[];
    try {
      edges = this.opts.store.edgesOf(entity, { type: edgeType, direction: "out" });
      if (edges.length === 0) edges = this.opts.store.edgesOf(entity, { type: edgeType, direction: "in" });
    } catch (e) {
      return { edgeType, entity: null, note: errorOf(e).message };
    }
    if (edges.length === 0) return { edgeType, entity: null, note: `no "${edgeType}" edge` };
    const e = edges[0];
    const other = e.source === entity ? e.target : e.source;
    if (edges.length === 1) return { edgeType, entity: other };
    return { edgeType, entity: other, note: `${edges.length} "${edgeType}" edges; followed ${e.id}, the first by edge id` };
  }

  /** A field of the changed entity; nil when the entity no longer has it (deleted, facet detached). */
  private read(entity: string, key: string): unknown {
    try {
      return this.opts.store.getField(entity, key);
    } catch {
      return null;
    }
  }
}

/** What `triggers.list` shows of each trigger; `counts` are a running dispatcher's (zero without one, e.g. read from config offline). */
export function summarizeTriggers(
  triggers: readonly TriggerDef[],
  rejected: readonly RejectedTrigger[],
  counts: (name: string) => { fired: number; pending: number } = () => ({ fired: 0, pending: 0 }),
): TriggerSummary[] {
  const active = triggers.map(
    (d): TriggerSummary => ({
      name: d.name,
      status: "active",
      file: d.file,
      line: d.line,
      watches: d.field.key,
      script: d.script,
      when: d.when?.source ?? null,
      scope: d.scope,
      mode: d.mode,
      concurrency: d.concurrency,
      supersede: d.supersede,
      remote: d.remote,
      ...counts(d.name),
    }),
  );
  const refused = rejected.map((r): TriggerSummary => ({ name: r.name, status: "rejected", file: r.file, line: r.line, error: r.error.message, fired: 0, pending: 0 }));
  return [...active, ...refused];
}

export function createTriggerDispatcher(opts: TriggerDispatcherOptions): TriggerDispatcher {
  const d = new TriggerDispatcher(opts);
  d.start();
  return d;
}

function addTo(map: Map<string, TriggerDef[]>, key: string, def: TriggerDef): void {
  const list = map.get(key);
  if (list) list.push(def);
  else map.set(key, [def]);
}

function errorOf(e: unknown): { type: string; message: string } {
  if (typeof e === "object" && e !== null && "code" in e && "message" in e) {
    const { code, message } = e as { code: unknown; message: unknown };
    if (typeof code === "string" && typeof message === "string") return { type: code, message };
  }
  return { type: "InvalidOperation", message: e instanceof Error ? e.message : String(e) };
}
