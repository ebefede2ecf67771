/**
 * Background scripts (`mode = "background"`): runs that live until stopped, like an OSC
 * listener. Keeps one run per script, stops it with cancellation (on_shutdown runs), restarts
 * it with backoff after a crash when configured, and tells people what happened.
 */
import { InvalidOperation } from "../../crdt/index.ts";
import { checkScriptArgs } from "../../config/index.ts";
import type { RunError, SyntaxProblem } from "../engine/index.ts";
import type { BackgroundEvent, BackgroundState } from "./background-events.ts";
import type { RunOptions, RunResult, RunStart } from "./run-types.ts";
import type { LoadedScript } from "./script-catalog.ts";
import type { RestartPolicy } from "./script-config.ts";
import type { BackgroundInfo } from "../../../protocol/index.ts";
export type BackgroundStatus = BackgroundInfo;

export interface StartBackgroundOptions {
  /** What the script sees as `args` (kept for restarts). */
  args?: Record<string, unknown>;
  user?: string;
}

export type ReloadResult = { ok: true; restarted: boolean } | { ok: false; problem: SyntaxProblem };

/** After cancel, how long past its shutdown_timeout a script may take before it is killed. */
export const STOP_GRACE_MS = 5000;
/** A background run up this long (or max_backoff_ms if longer) was healthy: its crash backs off from the start. */
export const HEALTHY_MS = 10_000;

export interface BackgroundDeps {
  run: (scriptId: string, opts: RunOptions) => RunStart;
  load: (scriptId: string) => Promise<LoadedScript>;
  emit: (e: BackgroundEvent) => void;
  clock: () => number;
  timers?: { setTimeout: (fn: () => void, ms: number) => unknown; clearTimeout: (t: unknown) => void };
  scriptIds?: () => readonly string[];
  stopGraceMs?: number;
}

interface Entry {
  id: string;
  state: BackgroundState;
  run: RunStart | null;
  runId: string | null;
  since: number;
  startedAt: number;
  restarts: number;
  /** Crashes in a row; the backoff doubles with each. */
  crashes: number;
  lastError: BackgroundStatus["lastError"];
  timer: unknown;
  nextStartAt?: number;
  args: Record<string, unknown>;
  user?: string;
  /** Set when someone asked it to stop: its end is not a crash. */
  stopReason: string | null;
  exited: Promise<void> | null;
  restart: RestartPolicy | null;
  shutdownMs: number;
}

const defaultTimers = {
  setTimeout: (fn: () => void, ms: number): unknown => {
    const t = setTimeout(fn, ms);
    t.unref();
    return t;
  },
  clearTimeout: (t: unknown): void => clearTimeout(t as NodeJS.Timeout),
};

export class BackgroundScripts {
  private readonly entries = new Map<string, Entry>();
  private closing = false;
  private readonly timers: NonNullable<BackgroundDeps["timers"]>;

  constructor(private readonly deps: BackgroundDeps) {
    this.timers = deps.timers ?? defaultTimers;
  }

  async start(id: string, opts: StartBackgroundOptions = {}): Promise<BackgroundStatus> {
    if (this.closing) throw new InvalidOperation(`cannot start background script "${id}": the runtime is shutting down`, { script: id });
    const script = await this.deps.load(id);
    if (script.config.mode !== "background") {
      const at = script.config.file ? ` (${script.config.file}:${script.config.line ?? "?"})` : "";
      throw new InvalidOperation(`script "${id}" is not a background script: add mode = "background" to its [script.*] section${at}`, { script: id });
    }
    let e = this.entries.get(id);
    if (e && e.run) return this.statusOf(e);
    // Declared args get their defaults and checks here, so an autostart gets them as `openprod run` would.
    const args = checkScriptArgs(id, script.config.args, opts.args ?? e?.args ?? {});
    if (!e) {
      e = {
        id, state: "stopped", run: null, runId: null, since: this.deps.clock(), startedAt: 0, restarts: 0, crashes: 0, lastError: null,
        timer: null, args: {}, stopReason: null, exited: null, restart: null, shutdownMs: 0,
      };
      this.entries.set(id, e);
    }
    this.clearTimer(e);
    e.args = args;
    if (opts.user !== undefined) e.user = opts.user;
    e.restart = script.config.restart;
    e.shutdownMs = script.config.shutdownTimeoutMs;
    this.launch(e);
    return this.statusOf(e);
  }

  async stop(id: string, reason: string): Promise<BackgroundStatus> {
    const e = this.entry(id);
    if (e.timer !== null) {
      this.clearTimer(e);
      this.setState(e, "stopped", reason);
    }
    const rs = e.run;
    if (rs) {
      e.stopReason = reason;
      rs.cancel(reason);
      // A script that ignores cancellation (busy without awaiting) must still stop.
      const ms = e.shutdownMs + (this.deps.stopGraceMs ?? STOP_GRACE_MS);
      const escalate = this.timers.setTimeout(() => rs.kill(`${reason}: still running ${ms} ms after it was asked to stop`), ms);
      try {
        await e.exited;
      } finally {
        this.timers.clearTimeout(escalate);
      }
    }
    return this.statusOf(e);
  }

  async restart(id: string, why: "user" | "reload"): Promise<BackgroundStatus> {
    const e = this.entries.get(id);
    if (e && (e.run || e.timer !== null)) await this.stop(id, `restart (${why})`);
    const status = await this.start(id, e ? { args: e.args, user: e.user } : {});
    const now = this.entry(id);
    now.restarts++;
    this.deps.emit({ type: "script.restarted", script: id, runId: now.runId ?? "", restarts: now.restarts, reason: why });
    return { ...status, restarts: now.restarts };
  }

  /** A new version was accepted: a running (or backing-off) script restarts with it. */
  async reloaded(id: string): Promise<boolean> {
    const e = this.entries.get(id);
    if (!e || (!e.run && e.timer === null)) return false;
    await this.restart(id, "reload");
    return true;
  }

  /** A capability was revoked: the run ends (the runtime cancels it) and is not restarted. */
  revoked(id: string, cause: RunError): void {
    const e = this.entries.get(id);
    if (!e) return;
    e.lastError = { type: cause.type, message: cause.message };
    if (e.run) e.stopReason = "permission revoked";
    else if (e.timer !== null) {
      this.clearTimer(e);
      this.setState(e, "stopped", "permission revoked");
    }
  }

  status(): BackgroundStatus[] {
    return [...this.entries.values()].map((e) => this.statusOf(e));
  }

  async startAutostart(): Promise<BackgroundStatus[]> {
    const out: BackgroundStatus[] = [];
    for (const id of this.deps.scriptIds?.() ?? []) {
      let script: LoadedScript;
      try {
        script = await this.deps.load(id);
      } catch {
        continue; // a script without its file fails at its own start, where the error is shown
      }
      if (script.config.mode === "background" && script.config.autostart) out.push(await this.start(id));
    }
    return out;
  }

  async shutdown(reason: string): Promise<void> {
    this.closing = true;
    await Promise.all([...this.entries.values()].map((e) => (e.run || e.timer !== null ? this.stop(e.id, reason) : Promise.resolve())));
  }

  // ---------------------------------------------------------------- internals

  private entry(id: string): Entry {
    const e = this.entries.get(id);
    if (!e) {
      const known = [...this.entries.keys()];
      throw new InvalidOperation(`no background script "${id}" was started (started: ${known.join(", ") || "none"})`, { script: id });
    }
    return e;
  }

  private launch(e: Entry): void {
    const rs = this.deps.run(e.id, { background: true, args: e.args, user: e.user });
    e.run = rs;
    e.runId = rs.runId;
    e.stopReason = null;
    e.startedAt = this.deps.clock();
    this.setState(e, "running");
    e.exited = rs.done.then(
      (r) => this.exited(e, rs, r),
      (err: unknown) => this.exited(e, rs, { runId: rs.runId, script: e.id, status: "error", ops: 0, bundles: 0, skips: [], error: { type: "InternalError", message: String(err) } }),
    );
  }

  private exited(e: Entry, rs: RunStart, r: RunResult): void {
    if (e.run !== rs) return;
    e.run = null;
    if (e.stopReason !== null || this.closing) {
      if (r.status === "error" && r.error && e.stopReason !== "permission revoked") e.lastError = summary(r.error);
      this.setState(e, "stopped", e.stopReason ?? "shutdown");
      return;
    }
    if (r.status === "ok" || r.status === "cancelled") {
      e.crashes = 0;
      this.setState(e, "stopped", "main() returned");
      return;
    }
    e.lastError = summary(r.error ?? { type: r.status, message: `the run ended with status ${r.status}` });
    const policy = e.restart;
    if (!policy) {
      this.deps.emit({ type: "script.crashed", script: e.id, runId: rs.runId, error: e.lastError, restartInMs: null });
      this.setState(e, "crashed", e.lastError.message);
      return;
    }
    // A run that stayed up a while (the longest backoff, and at least HEALTHY_MS) starts the doubling over.
    if (this.deps.clock() - e.startedAt >= Math.max(policy.maxBackoffMs, HEALTHY_MS)) e.crashes = 0;
    const delay = Math.min(policy.maxBackoffMs, policy.backoffMs * 2 ** Math.min(e.crashes, 30));
    e.crashes++;
    this.deps.emit({ type: "script.crashed", script: e.id, runId: rs.runId, error: e.lastError, restartInMs: delay });
    e.nextStartAt = this.deps.clock() + delay;
    e.timer = this.timers.setTimeout(() => {
      e.timer = null;
      e.nextStartAt = undefined;
      if (this.closing || e.state !== "backoff") return;
      e.restarts++;
      this.launch(e);
      this.deps.emit({ type: "script.restarted", script: e.id, runId: e.runId ?? "", restarts: e.restarts, reason: "crash" });
    }, delay);
    this.setState(e, "backoff", `restarting in ${delay} ms after: ${e.lastError.message}`);
  }

  private clearTimer(e: Entry): void {
    if (e.timer === null) return;
    this.timers.clearTimeout(e.timer);
    e.timer = null;
    e.nextStartAt = undefined;
  }

  private setState(e: Entry, state: BackgroundState, reason?: string): void {
    e.state = state;
    e.since = this.deps.clock();
    this.deps.emit({ type: "script.state", script: e.id, state, runId: e.runId, ...(reason !== undefined ? { reason } : {}) });
  }

  private statusOf(e: Entry): BackgroundStatus {
    const s: BackgroundStatus = { id: e.id, state: e.state, runId: e.runId, since: e.since, restarts: e.restarts, lastError: e.lastError };
    if (e.nextStartAt !== undefined) s.nextStartAt = e.nextStartAt;
    return s;
  }
}

function summary(err: RunError | SyntaxProblem): NonNullable<BackgroundStatus["lastError"]> {
  const out: NonNullable<BackgroundStatus["lastError"]> = { type: err.type, message: err.message };
  if (err.file !== undefined) out.file = err.file;
  if (err.line !== undefined) out.line = err.line;
  return out;
}

/** Every script id a show configures: user scripts by name, module scripts as `<module>/<name>`. */
export function configuredScriptIds(show: { config: { scripts: Record<string, unknown> }; modules: readonly { name: string; scripts: Record<string, unknown> }[] }): string[] {
  return [...Object.keys(show.config.scripts), ...show.modules.flatMap((m) => Object.keys(m.scripts).map((s) => `${m.name}/${s}`))];
}
