/**
 * The main thread's side of one run: serves the worker's host calls, events and prompts,
 * watches the deadline, and turns the worker's report into a RunOutcome.
 */
import { CONTROL_BYTES, SLOT_CANCEL, SLOT_KILL, SLOT_REPLY, F64_DEADLINE, epochNow, fromWire, toHostValue, toRunError, toWire } from "./wire.ts";
import type { FromWorker, PhaseResult, RunSpec } from "./wire.ts";
import type { LuaWorker, WorkerPool, WorkerTenant } from "./worker-pool.ts";
import { DEFAULT_SAMPLE_EVERY } from "./types.ts";
import type { HostBinding, HostValue, RunError, RunHandle, RunInfo, RunOutcome, RunProfile, RunRequest, ShutdownOutcome } from "./types.ts";

/** How long past its deadline a run that does not stop itself keeps its worker. */
export const WATCHDOG_GRACE_MS = 250;
const DEFAULT_SHUTDOWN_MS = 5000;

export class LuaRun implements RunHandle, WorkerTenant {
  readonly runId: string;
  readonly done: Promise<RunOutcome>;
  private resolveDone: (o: RunOutcome) => void = () => undefined;
  private worker: LuaWorker | null = null;
  private readonly startedAt: number;
  private firstLineAt: number | undefined;
  private readonly skips: { binding: string; error: RunError }[] = [];
  private finished = false;
  private cancelReason: string | null = null;
  private killReason: string | null = null;
  private watchdog: NodeJS.Timeout | null = null;
  private idleChecks = 0;
  private mainResult: PhaseResult | null = null;
  private readonly info: RunInfo;
  /** This run's shared slots: kill/cancel flags, sync-reply signal, phase deadline. */
  private readonly control = new SharedArrayBuffer(CONTROL_BYTES);
  private readonly i32 = new Int32Array(this.control);
  private readonly f64 = new Float64Array(this.control);

  constructor(private readonly req: RunRequest, private readonly pool: WorkerPool, private readonly clock: () => number) {
    this.runId = req.runId;
    this.info = { runId: req.runId, chunkName: req.chunkName };
    this.startedAt = clock();
    this.done = new Promise<RunOutcome>((resolve) => (this.resolveDone = resolve));
    void this.start();
  }

  cancel(reason: string): void {
    if (this.finished || this.cancelReason !== null) return;
    this.cancelReason = reason;
    Atomics.store(this.i32, SLOT_CANCEL, 1);
    this.worker?.post({ t: "wake", runId: this.runId });
  }

  kill(reason: string, graceMs: number = WATCHDOG_GRACE_MS): void {
    if (this.finished || this.killReason !== null) return;
    this.killReason = reason;
    const w = this.worker;
    if (!w) {
      this.finish({ status: "killed", error: this.killedError() });
      return;
    }
    Atomics.store(this.i32, SLOT_KILL, 1);
    Atomics.notify(this.i32, SLOT_REPLY);
    w.post({ t: "wake", runId: this.runId });
    setTimeout(() => {
      if (!this.finished && this.worker === w) void w.terminate();
    }, graceMs).unref();
  }

  onMessage(m: FromWorker): void {
    switch (m.t) {
      case "call":
        void this.serveCall(m.id, m.name, m.args.map(fromWire));
        break;
      case "async":
        this.serveAsync(m.id, m.name, m.args.map(fromWire));
        break;
      case "event":
        this.serveEvent(m.name, m.args.map(fromWire));
        break;
      case "unhandled":
        void this.serveUnhandled(m.id, m.name, m.error);
        break;
      case "firstLine":
        this.firstLineAt = this.clock() - Math.max(0, epochNow() - m.at);
        break;
      case "phase":
        this.mainResult = m.main;
        break;
      case "done":
        this.mainResult = m.main;
        this.profile = m.profile;
        this.finishFromWorker(m.main, m.shutdown);
        break;
      default:
        break;
    }
  }

  onExit(code: number): void {
    if (this.finished) return;
    const main = this.mainResult;
    if (this.killReason !== null) {
      this.finish({ status: "killed", error: this.killedError() }, main ? { ran: true, status: "timeout", error: this.timeoutError(true) } : undefined);
    } else if (main) {
      // Terminated while on_shutdown was stuck past its own deadline.
      const o = this.mainOutcome(main);
      this.finish(o, { ran: true, status: "timeout", error: this.timeoutError(true) });
    } else if (this.watchdogFired) {
      this.finish({ status: "timeout", error: this.timeoutError(false) });
    } else {
      this.finish({ status: "error", error: { type: "InternalError", message: `the Lua worker running ${this.req.chunkName} exited unexpectedly (code ${code})` } });
    }
  }

  private watchdogFired = false;
  private profile: RunProfile | undefined;

  private async start(): Promise<void> {
    let w: LuaWorker;
    try {
      w = await this.pool.acquire(this.runId, this, this.req.debug !== undefined);
    } catch (e) {
      this.finish({ status: "killed", error: { type: "Killed", message: e instanceof Error ? e.message : String(e) } });
      return;
    }
    if (this.finished) {
      this.pool.release(w, this.runId);
      return;
    }
    this.worker = w;
    const req = this.req;
    const every = req.profile?.sampleEvery;
    if (every !== undefined && !(Number.isInteger(every) && every >= 1)) {
      this.finish({ status: "error", error: { type: "InvalidOperation", message: `${req.chunkName}: profile.sampleEvery must be a whole number of instructions ≥ 1, got ${String(every)}`, details: { field: "profile.sampleEvery" } } });
      return;
    }
    const bindings = Object.entries(req.bindings).map(([name, b]) => ({ name, kind: b.kind, guarded: b.guarded ?? false, expose: b.expose ?? true }));
    const spec: RunSpec = {
      runId: req.runId,
      chunkName: req.chunkName,
      source: req.source,
      globals: Object.fromEntries(Object.entries(req.globals).map(([k, v]) => [k, toWire(v)])),
      bindings,
      workerModules: (req.workerModules ?? []).map((m) => ({ path: m.path, options: toWire(m.options ?? null) })),
      preludeLua: req.preludeLua ?? null,
      seed: req.seed,
      replayTiming: req.replayTiming ?? null,
      timeoutMs: req.limits.timeoutMs,
      memoryBytes: req.limits.memoryBytes,
      shutdownTimeoutMs: req.limits.shutdownTimeoutMs ?? DEFAULT_SHUTDOWN_MS,
      profile: req.profile ? { sampleEvery: every ?? DEFAULT_SAMPLE_EVERY, keyByFirstArg: req.profile.keyByFirstArg ?? [] } : null,
      debug: req.debug ?? null,
    };
    w.post({ t: "run", spec, control: this.control }, req.debug ? [req.debug.port] : []);
    this.armWatchdog(req.limits.timeoutMs + WATCHDOG_GRACE_MS);
  }

  private armWatchdog(ms: number): void {
    this.watchdog = setTimeout(() => this.checkWatchdog(), Math.max(1, ms));
    this.watchdog.unref();
  }

  /** The worker keeps its current phase deadline in shared memory; past it + grace, terminate. */
  private checkWatchdog(): void {
    const w = this.worker;
    if (this.finished || !w) return;
    const deadline = this.f64[F64_DEADLINE];
    const now = epochNow();
    if (deadline > 0 && now <= deadline + WATCHDOG_GRACE_MS) {
      this.idleChecks = 0;
      this.armWatchdog(deadline + WATCHDOG_GRACE_MS - now + 1);
      return;
    }
    // No deadline means setup or onFinish; give those a few limits' worth before giving up.
    if (deadline === 0 && ++this.idleChecks < 4) {
      this.armWatchdog(this.req.limits.timeoutMs);
      return;
    }
    this.watchdogFired = true;
    void w.terminate();
  }

  private binding(name: string): HostBinding | undefined {
    return Object.prototype.hasOwnProperty.call(this.req.bindings, name) ? this.req.bindings[name] : undefined;
  }

  private async serveCall(id: number, name: string, args: HostValue[]): Promise<void> {
    const w = this.worker;
    if (!w) return;
    const b = this.binding(name);
    try {
      if (!b || b.kind !== "sync") throw Object.assign(new Error(`no sync host binding named "${name}"`), { code: "InvalidOperation" });
      const value = toHostValue(await b.fn(args, this.info));
      w.reply({ runId: this.runId, id, ok: true, value: toWire(value) }, this.i32);
    } catch (e) {
      w.reply({ runId: this.runId, id, ok: false, value: null, error: toRunError(e) }, this.i32);
    }
  }

  private serveAsync(id: number, name: string, args: HostValue[]): void {
    const b = this.binding(name);
    const settle = (ok: boolean, value: HostValue, error?: RunError): void => {
      if (this.finished || !this.worker) return;
      this.worker.post({ t: "settle", runId: this.runId, id, ok, value: toWire(value), error });
    };
    let p: Promise<HostValue>;
    try {
      if (!b || b.kind !== "async") throw Object.assign(new Error(`no async host binding named "${name}"`), { code: "InvalidOperation" });
      p = Promise.resolve(b.fn(args, this.info)).then((v) => toHostValue(v));
    } catch (e) {
      p = Promise.reject(e);
    }
    p.then(
      (v) => settle(true, v),
      (e) => settle(false, null, toRunError(e)),
    );
  }

  private serveEvent(name: string, args: HostValue[]): void {
    const b = this.binding(name);
    if (!b) return;
    try {
      void b.fn(args, this.info);
    } catch {
      // Fire-and-forget: a failing event sink must not change the script's behaviour.
    }
  }

  private async serveUnhandled(id: number, name: string, error: RunError): Promise<void> {
    const w = this.worker;
    if (!w) return;
    let decision: "skip" | "abort" = "abort";
    try {
      if (this.req.onUnhandledError) decision = (await this.req.onUnhandledError(error, name)) === "skip" ? "skip" : "abort";
    } catch {
      decision = "abort";
    }
    if (decision === "skip") this.skips.push({ binding: name, error });
    w.reply({ runId: this.runId, id, ok: true, value: null, decision }, this.i32);
  }

  private timeoutError(shutdown: boolean): RunError {
    const ms = shutdown ? (this.req.limits.shutdownTimeoutMs ?? DEFAULT_SHUTDOWN_MS) : this.req.limits.timeoutMs;
    return {
      type: "Timeout",
      message: `${this.req.chunkName}: ${shutdown ? "on_shutdown()" : "the run"} exceeded its time limit of ${ms} ms`,
      details: { limitMs: ms, file: this.req.chunkName },
    };
  }

  private killedError(): RunError {
    return { type: "Killed", message: `${this.req.chunkName}: run killed: ${this.killReason ?? "engine closed"}` };
  }

  private mainOutcome(main: PhaseResult): Pick<RunOutcome, "status" | "error"> {
    switch (main.status) {
      case "ok":
        return { status: "ok" };
      case "error":
        return { status: "error", error: main.error };
      case "timeout":
        return { status: "timeout", error: this.timeoutError(false) };
      case "cancelled":
        return { status: "cancelled" };
      case "killed":
        return { status: "killed", error: this.killedError() };
    }
  }

  private finishFromWorker(main: PhaseResult, shutdown: { ran: boolean; result?: PhaseResult }): void {
    const o = this.mainOutcome(main);
    if (this.cancelReason !== null && o.status === "error") o.status = "cancelled";
    let sd: ShutdownOutcome | undefined;
    if (shutdown.ran && shutdown.result) {
      const r = shutdown.result;
      if (r.status === "error") sd = { ran: true, status: "error", error: r.error };
      else if (r.status === "timeout" || r.status === "killed") sd = { ran: true, status: "timeout", error: this.timeoutError(true) };
      else sd = { ran: true, status: "ok" };
    }
    this.finish(o, sd);
  }

  private finish(o: Pick<RunOutcome, "status" | "error">, shutdown?: ShutdownOutcome): void {
    if (this.finished) return;
    this.finished = true;
    if (this.watchdog) clearTimeout(this.watchdog);
    const w = this.worker;
    this.worker = null;
    if (w && w.tenants.get(this.runId) === this) this.pool.release(w, this.runId);
    const outcome: RunOutcome = { status: o.status, skips: this.skips, startedAt: this.startedAt, endedAt: this.clock() };
    if (o.error) outcome.error = o.error;
    if (shutdown) outcome.shutdown = shutdown;
    if (this.firstLineAt !== undefined) outcome.firstLineAt = this.firstLineAt;
    if (this.profile !== undefined) outcome.profile = this.profile;
    this.resolveDone(outcome);
  }
}
