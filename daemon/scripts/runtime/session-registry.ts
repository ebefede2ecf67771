/**
 * The session registry: every open session of this daemon (those runs opened and those restored
 * from the session log after a restart), found by id for a person's commit, discard or choice.
 */
import { InvalidOperation } from "../../crdt/index.ts";
import type { WorkspaceStore, WriteGate } from "../../crdt/index.ts";
import type { RuntimeEvent } from "./events.ts";
import { Session } from "./session.ts";
import type { CommitOutcome, SessionSummary } from "./session.ts";

export class SessionRegistry {
  private readonly open = new Map<string, Session>();
  private restored: Promise<void> | null = null;

  constructor(private readonly deps: { store: WorkspaceStore; emit: (e: RuntimeEvent) => void }) {}

  /** A session a run opened. */
  adopt(s: Session): void {
    this.open.set(s.id, s);
  }

  /** Drops a session once it is committed or discarded. */
  forget(s: Session): void {
    if (s.status !== "open") this.open.delete(s.id);
  }

  async list(): Promise<SessionSummary[]> {
    await this.restore();
    return [...this.open.values()].filter((s) => s.status === "open").map((s) => s.summary());
  }

  /**
   * A person commits a script's session: its bundle carries the run's origin and who committed
   * it, and passes `gate` (the script's grant as it is now) when given.
   */
  async commit(sessionId: string, user: string | undefined, gateOf: (scriptId: string) => Promise<WriteGate | undefined>): Promise<CommitOutcome> {
    const s = await this.byId(sessionId);
    const origin: Record<string, unknown> = { script: s.meta.scriptId, hash: s.meta.hash, runId: s.meta.runId, ...(s.meta.origin ?? {}) };
    if (s.meta.chain !== undefined && s.meta.chain !== null) origin.chain = s.meta.chain;
    if (user) origin.committedBy = user;
    const gate = await gateOf(s.meta.scriptId);
    const r = await s.commit({ actor: { kind: "script", name: s.meta.scriptId, runId: s.meta.runId }, origin, ...(gate ? { gate } : {}) });
    this.forget(s);
    return r;
  }

  async discard(sessionId: string): Promise<void> {
    const s = await this.byId(sessionId);
    await s.discard();
    this.forget(s);
  }

  async resolve(sessionId: string, conflictId: string, choice: "script" | "canonical"): Promise<void> {
    await (await this.byId(sessionId)).resolve(conflictId, choice);
  }

  async resolveBulk(sessionId: string, choice: "script" | "canonical"): Promise<number> {
    return (await this.byId(sessionId)).resolveBulk(choice);
  }

  private restore(): Promise<void> {
    this.restored ??= Session.restoreAll(this.deps, (id) => this.open.has(id)).then((list) => {
      for (const s of list) if (!this.open.has(s.id)) this.open.set(s.id, s);
    });
    return this.restored;
  }

  private async byId(id: string): Promise<Session> {
    await this.restore();
    const s = this.open.get(id);
    if (!s || s.status !== "open") {
      throw new InvalidOperation(`no open session ${id} (open: ${[...this.open.keys()].slice(0, 5).join(", ") || "none"})`, { session: id });
    }
    return s;
  }
}
