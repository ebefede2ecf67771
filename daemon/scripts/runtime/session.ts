/**
 * A script session: an overlay of uncommitted operations over a snapshot of canonical,
 * persisted as it grows (side records in the store's LevelDB, so it survives a restart),
 * streamed to observers, and committed as one bundle or discarded, by the script or later
 * by a person.
 */
import { InvalidOperation, headsEqual } from "../../crdt/index.ts";
import type { Actor, FieldValue, Heads, Operation, RecordWrite, WorkspaceStore, WriteGate } from "../../crdt/index.ts";
import { Overlay } from "./overlay.ts";
import type { OverlayBase } from "./overlay-base.ts";
import { storeBase } from "./overlay-base.ts";
import { findCommitConflicts } from "./commit-conflicts.ts";
import type { SessionConflict } from "./commit-conflicts.ts";
import type { Isolation } from "./script-config.ts";
import { SESSIONS_NAMESPACE, SessionLog } from "./session-log.ts";
import type { SessionMeta } from "./session-log.ts";
import type { RuntimeEvent } from "./events.ts";

// The log's format is its own (session-log.ts); these stay importable from here.
export { SESSIONS_NAMESPACE };
export type { SessionMeta };

export type CommitOutcome =
  | { status: "committed"; hash: string | null; ops: number }
  | { status: "conflicts"; conflicts: SessionConflict[]; bulk: boolean };

export interface SessionSummary {
  id: string;
  scriptId: string;
  runId: string;
  ops: Operation[];
  heads: Heads;
  isolation: Isolation;
  conflicts: SessionConflict[];
}

interface SessionDeps {
  store: WorkspaceStore;
  emit: (e: RuntimeEvent) => void;
  progress?: () => { current: number; total: number | null } | null;
  /** External inputs the run had consumed so far (see inputMarks). */
  inputMark?: () => number;
}

/** Ops streamed per "overlay.ops" event at most. */
const STREAM_BATCH = 1000;

export class Session {
  readonly overlay: Overlay;
  status: "open" | "committed" | "discarded" = "open";
  private unwritten: Operation[] = [];
  private seq = 0;
  private scheduled = false;
  private writing: Promise<void> = Promise.resolve();
  private writeError: Error | null = null;
  private lastConflicts: SessionConflict[] = [];
  /** Per overlay op (same index), the external inputs consumed before it was made; only for ops of this process. */
  readonly inputMarks: number[] = [];

  private readonly log: SessionLog;

  constructor(private readonly deps: SessionDeps, readonly meta: SessionMeta) {
    this.overlay = new Overlay(deps.store);
    this.log = new SessionLog(deps.store);
  }

  get id(): string {
    return this.meta.id;
  }

  /** Writes the session's header (queued with its ops: `flush()` waits for it) and announces it. */
  persistHeader(): void {
    this.writing = this.writing.then(() => this.log.writeMeta(this.meta)).catch((e: unknown) => {
      this.writeError = e as Error;
    });
    this.deps.emit({ type: "session.opened", sessionId: this.id, runId: this.meta.runId, script: this.meta.scriptId });
  }

  /**
   * Reads every open session back from the store, replaying its ops into a fresh overlay; those
   * `known` names (open in this process already) are left out without replaying them.
   */
  static async restoreAll(deps: SessionDeps, known: (id: string) => boolean = () => false): Promise<Session[]> {
    const out: Session[] = [];
    for (const { meta, batches } of await new SessionLog(deps.store).readAll()) {
      if (known(meta.id)) continue;
      const s = new Session(deps, meta);
      const base = s.base();
      for (const ops of batches) for (const op of ops) s.overlay.replay(op, base);
      s.seq = batches.length;
      out.push(s);
    }
    return out;
  }

  /** Where this session's reads start: canonical at its snapshot, or canonical now for live isolation. */
  base(): OverlayBase {
    const { store } = this.deps;
    return this.meta.isolation === "live" || !store.hasHeads(this.meta.heads) ? storeBase(store) : storeBase(store, this.meta.heads);
  }

  liveBase(): OverlayBase {
    return storeBase(this.deps.store);
  }

  /** Adds one operation (validated over the session's view); it is persisted and streamed shortly after. */
  apply(op: Operation, base: OverlayBase = this.base(), gate?: WriteGate): { id?: string; edgeId?: string; ids?: string[] } {
    this.assertOpen();
    const result = this.overlay.apply(op, base, gate);
    if (this.deps.inputMark) this.inputMarks.push(this.deps.inputMark());
    this.unwritten.push(this.overlay.ops[this.overlay.ops.length - 1]);
    this.schedule();
    return result;
  }

  /** The TS session API's set_field (what the Lua path is benchmarked against). */
  setField(id: string, field: string, value: FieldValue, base?: OverlayBase, gate?: WriteGate): void {
    this.apply({ op: "SetField", id, field, value }, base, gate);
  }

  /** Resolves when every op so far is durable. */
  async flush(): Promise<void> {
    if (this.unwritten.length) this.writeBatch();
    await this.writing;
    if (this.writeError) throw this.writeError;
  }

  summary(): SessionSummary {
    return {
      id: this.id,
      scriptId: this.meta.scriptId,
      runId: this.meta.runId,
      ops: [...this.overlay.ops],
      heads: this.meta.heads,
      isolation: this.meta.isolation,
      conflicts: this.lastConflicts,
    };
  }

  /**
   * Commit: if canonical changed any field this session wrote since the snapshot, nothing is
   * applied and the conflicts are returned (with the choices made so far); otherwise one bundle.
   */
  async commit(input: { actor: Actor; origin: Record<string, unknown>; gate?: WriteGate }): Promise<CommitOutcome> {
    this.assertOpen();
    await this.flush();
    const { store } = this.deps;
    const changed = !headsEqual(store.heads(), this.meta.heads);
    const conflicts = changed ? await findCommitConflicts(store, this.meta, this.overlay, this.base()) : [];
    for (const c of conflicts) c.resolution = this.meta.resolutions[c.id];
    this.lastConflicts = conflicts;
    const open = conflicts.filter((c) => c.resolution === undefined);
    if (open.length) {
      this.deps.emit({ type: "session.conflicts", sessionId: this.id, runId: this.meta.runId, script: this.meta.scriptId, conflicts: open.length });
      return { status: "conflicts", conflicts, bulk: open.length > 100 };
    }
    const ops = this.resolvedOps(conflicts);
    // The overlay's records go in the same atomic write as its bundle: a crash can never leave a
    // session that is both committed and still there to commit again.
    const removal = await this.recordRemoval();
    // The gate is the script's grant as it is now: one narrowed since the run is honoured here.
    const result = await store.apply(ops, { actor: input.actor, origin: input.origin }, { records: removal, ...(input.gate ? { gate: input.gate } : {}) });
    this.status = "committed";
    this.deps.emit({ type: "session.committed", sessionId: this.id, runId: this.meta.runId, script: this.meta.scriptId, hash: result.hash, ops: ops.length });
    return { status: "committed", hash: result.hash, ops: ops.length };
  }

  async resolve(conflictId: string, choice: "script" | "canonical"): Promise<void> {
    this.assertOpen();
    if (choice !== "script" && choice !== "canonical") throw new InvalidOperation(`a conflict is resolved with "script" or "canonical", got ${JSON.stringify(choice)}`, { choice });
    if (!this.lastConflicts.some((c) => c.id === conflictId)) {
      throw new InvalidOperation(`session ${this.id} has no conflict ${conflictId} (known: ${this.lastConflicts.map((c) => c.id).slice(0, 5).join(", ") || "none; commit first"})`, { session: this.id, conflict: conflictId });
    }
    this.meta.resolutions[conflictId] = choice;
    await this.saveMeta();
  }

  /**
   * One choice (all script / all canonical) for every open conflict, however many. Above 100
   * the commit reports them as the spec's bulk conflict; the choice itself works at any size.
   */
  async resolveBulk(choice: "script" | "canonical"): Promise<number> {
    this.assertOpen();
    if (choice !== "script" && choice !== "canonical") throw new InvalidOperation(`a conflict is resolved with "script" or "canonical", got ${JSON.stringify(choice)}`, { choice });
    const open = this.lastConflicts.filter((c) => this.meta.resolutions[c.id] === undefined);
    if (open.length === 0) {
      throw new InvalidOperation(`session ${this.id} has no open conflict to resolve (conflicts are found when committing: commit first)`, { session: this.id, open: 0 });
    }
    for (const c of open) this.meta.resolutions[c.id] = choice;
    await this.saveMeta();
    return open.length;
  }

  /** Rewrites the session's header now (resolutions chosen, origin stamped at the end of its run). */
  saveMeta(): Promise<void> {
    return this.log.writeMeta(this.meta);
  }

  async discard(): Promise<void> {
    this.assertOpen();
    await this.flush().catch(() => undefined);
    await this.close("discarded");
    this.deps.emit({ type: "session.discarded", sessionId: this.id, runId: this.meta.runId, script: this.meta.scriptId, ops: this.overlay.size });
  }

  // ------------------------------------------------------------ internals

  private resolvedOps(conflicts: SessionConflict[]): Operation[] {
    if (!conflicts.length) return this.overlay.ops;
    // Structural conflicts keep ("script") or drop ("canonical") the operations they are about.
    const dropped = new Set<number>();
    for (const c of conflicts) if (c.kind === "structure" && c.resolution === "canonical") for (const i of c.ops ?? []) dropped.add(i);
    const choice = new Map(conflicts.filter((c) => c.kind !== "structure").map((c) => [`${c.entity}\u0000${c.field}`, c]));
    const lastAt = new Map<string, number>();
    this.overlay.ops.forEach((op, i) => {
      const t = target(op);
      if (t && choice.has(t)) lastAt.set(t, i);
    });
    const out: Operation[] = [];
    this.overlay.ops.forEach((op, i) => {
      if (dropped.has(i)) return;
      const t = target(op);
      const c = t ? choice.get(t) : undefined;
      if (!c) return void out.push(op);
      // "script": the value the script ended with, written once over whatever canonical holds now.
      if (c.resolution === "script" && lastAt.get(t as string) === i) out.push({ op: "SetField", id: c.entity, field: c.field, value: c.scriptValue });
    });
    return out;
  }

  private schedule(): void {
    if (this.unwritten.length >= STREAM_BATCH) {
      this.writeBatch();
      return;
    }
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      if (this.unwritten.length) this.writeBatch();
    });
  }

  private writeBatch(): void {
    const ops = this.unwritten;
    this.unwritten = [];
    const seq = ++this.seq;
    this.writing = this.writing.then(() => this.log.appendOps(this.id, seq, ops)).catch((e: unknown) => {
      this.writeError = e as Error;
    });
    this.deps.emit({
      type: "overlay.ops",
      sessionId: this.id,
      runId: this.meta.runId,
      script: this.meta.scriptId,
      ops,
      total: this.overlay.size,
      progress: this.deps.progress?.() ?? null,
    });
  }

  private async close(status: "committed" | "discarded"): Promise<void> {
    this.status = status;
    await this.deps.store.writeRecords(await this.recordRemoval());
  }

  /** Deletions of every record this session wrote (after its pending writes landed). */
  private async recordRemoval(): Promise<RecordWrite[]> {
    await this.writing;
    return this.log.removal(this.id);
  }

  private assertOpen(): void {
    if (this.status !== "open") throw new InvalidOperation(`session ${this.id} is already ${this.status}`, { session: this.id, status: this.status });
  }
}

function target(op: Operation): string | null {
  if (op.op === "SetField" || op.op === "ApplyCRDT") return `${op.id}\u0000${op.field}`;
  return null;
}
