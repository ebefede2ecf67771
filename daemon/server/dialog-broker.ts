/**
 * The dialog channel between scripts and people: a script's `ui.dialog.*`
 * becomes a `dialog.request` event to every subscribed client; the first
 * `dialog.respond` settles it. A dialog never hangs a script: with nobody
 * listening it fails at once, and it fails with Timeout when nobody answers
 * in time (or when every client that could answer has gone).
 */
import { InvalidOperation, Timeout } from "../crdt/vocabulary.ts";
import type { DialogRequest } from "../scripts/runtime/index.ts";
import type { DaemonEvent } from "../../protocol/index.ts";
import type { DialogClosed, DialogEvent } from "../../protocol/index.ts";

export const DEFAULT_DIALOG_TIMEOUT_MS = 60_000;

export interface DialogTimers {
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export interface DialogBrokerOptions {
  /** Delivers `dialog.request` / `dialog.closed` to clients. */
  publish(event: DaemonEvent): void;
  /** True while at least one client would see a `dialog.request`. */
  listening(): boolean;
  /** How long a client may take to answer (default 60 s). */
  timeoutMs?: number;
  /** How often to look whether anyone is still listening (default 500 ms). */
  listenerCheckMs?: number;
  now?: () => number;
  timers?: DialogTimers;
}

interface Pending {
  request: DialogEvent;
  resolve(answer: unknown): void;
  reject(e: Error): void;
  timers: unknown[];
}

const defaultTimers: DialogTimers = {
  setTimeout: (fn, ms) => {
    const t = setTimeout(fn, ms);
    t.unref();
    return t;
  },
  clearTimeout: (t) => clearTimeout(t as NodeJS.Timeout),
};

export class DialogBroker {
  private readonly pending = new Map<string, Pending>();
  private next = 1;
  private readonly timers: DialogTimers;
  private readonly now: () => number;
  readonly timeoutMs: number;

  constructor(private readonly opts: DialogBrokerOptions) {
    this.timers = opts.timers ?? defaultTimers;
    this.now = opts.now ?? Date.now;
    this.timeoutMs = opts.timeoutMs ?? DEFAULT_DIALOG_TIMEOUT_MS;
  }

  /** The runtime's `Dialogs.ask`: resolves with the answer, rejects with Timeout. */
  ask(req: DialogRequest): Promise<unknown> {
    const id = `dlg-${this.next++}`;
    const what = `${req.kind} dialog ${id} of ${req.script} (run ${req.runId}): ${JSON.stringify(req.message)}`;
    if (!this.opts.listening()) {
      return Promise.reject(
        new Timeout(`${what}: no client is subscribed to dialog.request, so nobody can answer it; run the script from a client that answers dialogs (openprod run on a terminal, or --answer)`, {
          dialog: id,
          runId: req.runId,
          script: req.script,
        }),
      );
    }
    const request: DialogEvent = { ...req, id, timeoutMs: this.timeoutMs, expiresAt: this.now() + this.timeoutMs };
    return new Promise<unknown>((resolve, reject) => {
      const p: Pending = { request, resolve, reject, timers: [] };
      this.pending.set(id, p);
      p.timers.push(
        this.timers.setTimeout(
          () => this.fail(id, "timeout", `${what}: no client answered within ${this.timeoutMs} ms`),
          this.timeoutMs,
        ),
      );
      const watch = (): void => {
        if (!this.pending.has(id)) return;
        if (!this.opts.listening()) return this.fail(id, "abandoned", `${what}: every client that could answer it disconnected`);
        p.timers.push(this.timers.setTimeout(watch, this.opts.listenerCheckMs ?? 500));
      };
      p.timers.push(this.timers.setTimeout(watch, this.opts.listenerCheckMs ?? 500));
      this.opts.publish({ type: "dialog.request", ...request });
    });
  }

  /** A client's answer; the first one wins. */
  respond(id: string, answer: unknown, by: string): { id: string; runId: string } {
    const p = this.pending.get(id);
    if (!p) {
      throw new InvalidOperation(`dialog ${id} is not waiting for an answer (answered already, timed out, or unknown; open: ${[...this.pending.keys()].join(", ") || "none"})`, {
        dialog: id,
      });
    }
    const value = checkAnswer(p.request, answer);
    this.settle(id, { reason: "answered", by });
    p.resolve(value);
    return { id, runId: p.request.runId };
  }

  /** Dialogs waiting for an answer, oldest first (a client that connects late can still show them). */
  list(): DialogEvent[] {
    return [...this.pending.values()].map((p) => p.request);
  }

  /** Fails every waiting dialog (daemon shutdown). */
  close(reason: string): void {
    for (const id of [...this.pending.keys()]) this.fail(id, "abandoned", `dialog ${id}: ${reason}`);
  }

  private fail(id: string, reason: "timeout" | "abandoned", message: string): void {
    const p = this.pending.get(id);
    if (!p) return;
    this.settle(id, { reason });
    p.reject(new Timeout(message, { dialog: id, runId: p.request.runId, script: p.request.script, reason }));
  }

  private settle(id: string, how: { reason: DialogClosed["reason"]; by?: string }): void {
    const p = this.pending.get(id);
    if (!p) return;
    this.pending.delete(id);
    for (const t of p.timers) this.timers.clearTimeout(t);
    this.opts.publish({ type: "dialog.closed", id, runId: p.request.runId, ...how });
  }
}

/** What each kind accepts: confirm a boolean, prompt a string, select one of its options, error "skip"/"abort"; null dismisses. */
function checkAnswer(req: DialogEvent, answer: unknown): unknown {
  if (answer === null) return null;
  const bad = (expected: string): never => {
    throw new InvalidOperation(`dialog ${req.id} (${req.kind}) expects ${expected} or null to dismiss, got ${JSON.stringify(answer)}`, {
      dialog: req.id,
      kind: req.kind,
      answer,
    });
  };
  switch (req.kind) {
    case "confirm":
      return typeof answer === "boolean" ? answer : bad("true or false");
    case "prompt":
      return typeof answer === "string" ? answer : bad("a string");
    case "select":
    case "error":
      return typeof answer === "string" && (req.options as readonly string[]).includes(answer) ? answer : bad(`one of ${req.options.map((o) => JSON.stringify(o)).join(", ")}`);
  }
}
