/**
 * One run inside a worker: installs the request into a fresh sandbox, drives main and
 * on_shutdown as coroutines, serves their futures, and reports the outcome (worker side).
 *
 * Longer than our ~400 lines on purpose: WorkerRun is the one object whose state (deadline, kill
 * flag, futures, pending batches, profiler, debugger) the Lua hook and every host call read on the
 * hot path; its helpers already live beside it (futures.ts, phase-result.ts, worker-modules.ts,
 * debug-agent.ts, profiler.ts).
 */
import { receiveMessageOnPort } from "node:worker_threads";
import type { MessagePort } from "node:worker_threads";
import { LUA_REGISTRYINDEX } from "./lua-values.ts";
import type { LuaVm, PhaseTable, PollStatus, RunPrims, Sandbox } from "./lua-vm.ts";
import { RunProfiler } from "./profiler.ts";
import { DebugAgent } from "./debug-agent.ts";
import { Futures } from "./futures.ts";
import { toPhaseResult } from "./phase-result.ts";
import { HostCallError, installWorkerModules } from "./worker-modules.ts";
import { SLEEP_BINDING, TIMING_BINDING } from "./types.ts";
import type { HostValue, RunError, WorkerModuleContext } from "./types.ts";
import { epochNow, F64_DEADLINE, fromWire, SLOT_CANCEL, SLOT_KILL, SLOT_REPLY, toRunError, toWire } from "./wire.ts";
import type { FromWorker, PhaseResult, RunSpec, SyncReply } from "./wire.ts";

interface LocalFn {
  kind: "sync" | "async";
  guarded: boolean;
  fn: (...args: HostValue[]) => HostValue | Promise<HostValue>;
}

export interface WorkerChannel {
  post(msg: FromWorker): void;
  replyPort: MessagePort;
  i32: Int32Array;
  f64: Float64Array;
}

/** Whether a field holds what separates fields (\x1f) or bindings (\x1e) in a batch (sandbox.lua's install_bindings). */
const holdsSeparator = (field: string): boolean => field.includes("\x1e") || field.includes("\x1f");

/** The longest a worker module's buffered calls wait while Lua runs (see WorkerModuleContext.onFlushPoint). */
export const FLUSH_EVERY_MS = 50;

export class WorkerRun implements RunPrims {
  private readonly futures = new Futures((id) => {
    if (this.waiting === id) {
      this.waiting = null;
      this.step(0);
    }
  });
  private nextCall = 1;
  private phase: "setup" | "main" | "shutdown" | "finish" = "setup";
  private waiting: number | null = null;
  private co = 0;
  private coRef = 0;
  private phaseDone: ((r: PhaseTable | { status: "crash"; message: string }) => void) | null = null;
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly immediates = new Set<NodeJS.Immediate>();
  private deadlineTimer: NodeJS.Timeout | null = null;
  private readonly locals = new Map<string, LocalFn>();
  private readonly finishers: (() => void | Promise<void>)[] = [];
  /** Bindings waiting to be installed together (see batchBindings); null: install each at once. */
  private pendingBindings: string[] | null = null;
  private readonly flushers: (() => void)[] = [];
  private lastFlush = 0;
  private readonly timing: boolean;
  private races = 0;
  private readonly bindingKinds: Map<string, string>;
  /** null unless the run asked for a profile: every use below is behind one null check. */
  private readonly profiler: RunProfiler | null = null;
  readonly sample?: (L: number) => void;
  /** null unless the run is debugged (RunSpec.debug). */
  private readonly agent: DebugAgent | null = null;
  readonly debug?: DebugAgent;

  get runId(): string {
    return this.spec.runId;
  }

  constructor(private readonly spec: RunSpec, private readonly vm: LuaVm, private readonly sb: Sandbox, private readonly ch: WorkerChannel) {
    this.bindingKinds = new Map(spec.bindings.map((b) => [b.name, b.kind]));
    this.timing = this.bindingKinds.get(TIMING_BINDING) === "event";
    if (spec.profile !== null) {
      const p = new RunProfiler(spec.profile.sampleEvery, spec.profile.keyByFirstArg, vm.stack);
      this.profiler = p;
      this.sample = (L) => p.sample(L);
    }
    if (spec.debug !== null) {
      const a = new DebugAgent(spec.debug.port, spec.debug.signal, vm, sb, { i32: ch.i32, f64: ch.f64, resumed: () => this.followDeadline() }, this.profiler?.sampleEvery);
      this.agent = a;
      this.debug = a;
    }
  }

  private noteTiming(kind: "race" | "sleep", value: number | null): void {
    if (this.timing) this.emit(TIMING_BINDING, [kind, value]);
  }

  async execute(): Promise<void> {
    const { spec, vm, sb } = this;
    vm.activate(sb, this);
    let main: PhaseResult;
    let shutdown: { ran: boolean; result?: PhaseResult } = { ran: false };
    try {
      const chunk = vm.compile(sb, spec.source, spec.chunkName);
      if ("problem" in chunk) {
        this.post({ t: "done", runId: spec.runId, main: { status: "error", error: chunk.problem }, shutdown });
        return;
      }
      let preludeRef = 0;
      if (spec.preludeLua !== null) {
        const p = vm.compile(sb, spec.preludeLua, "prelude");
        if ("problem" in p) {
          this.post({ t: "done", runId: spec.runId, main: { status: "error", error: { ...p.problem, type: "PreludeError" } }, shutdown });
          return;
        }
        preludeRef = p.ref;
      }
      this.install();
      this.batchBindings();
      await installWorkerModules(spec.workerModules, (options) => this.contextFor(options));
      this.flushBindings();
      vm.activate(sb, this);
      if (this.agent !== null) {
        this.agent.load(spec.chunkName);
        this.agent.waitForStart();
      }
      vm.callApi(sb, "seed", () => (vm.lua.lua_pushinteger(sb.L, BigInt(Math.trunc(spec.seed))), 1), 0);
      sb.stats.max = sb.stats.used + spec.memoryBytes;

      this.setDeadline(spec.timeoutMs);
      this.phase = "main";
      main = await this.runPhase("main_phase", () => {
        const L = this.co;
        if (preludeRef) vm.lua.lua_rawgeti(L, LUA_REGISTRYINDEX, BigInt(preludeRef));
        else vm.lua.lua_pushnil(L);
        vm.lua.lua_rawgeti(L, LUA_REGISTRYINDEX, BigInt(chunk.ref));
        return 2;
      });
      vm.activate(sb, this);
      if (main.status !== "killed" && this.hasShutdown()) {
        this.phase = "shutdown";
        this.setDeadline(spec.shutdownTimeoutMs);
        this.post({ t: "phase", runId: spec.runId, phase: "shutdown", main });
        const r = await this.runPhase("shutdown_phase", () => 0);
        shutdown = { ran: true, result: r };
      }
    } catch (e) {
      main = { status: "error", error: { type: "InternalError", message: `engine failure: ${e instanceof Error ? e.message : String(e)}` } };
    }
    this.phase = "finish";
    this.clearDeadline();
    this.ch.f64[F64_DEADLINE] = 0;
    for (const f of this.finishers) {
      try {
        await f();
      } catch (e) {
        if (main.status === "ok") main = { status: "error", error: { ...toRunError(e), message: `worker module onFinish failed: ${toRunError(e).message}` } };
      }
    }
    this.dispose();
    const profile = this.profiler?.result();
    this.post({ t: "done", runId: spec.runId, main, shutdown, ...(profile ? { profile } : {}) });
  }

  /** A settle message arrived from the main thread for an async host call. */
  settleFromHost(id: number, ok: boolean, value: HostValue, error?: RunError): void {
    if (ok) this.settle(id, "ok", value);
    else this.settle(id, "error", null, error ?? { type: "InternalError", message: "async call failed" });
  }

  /** Cancel or kill happened: a run parked on an await wakes and re-checks. */
  wake(): void {
    if (this.waiting !== null) {
      this.waiting = null;
      this.step(0);
    }
  }

  // ---- RunPrims (called from Lua through the VM's C functions) ----

  hostCall(name: string, args: HostValue[]): { ok: true; value: HostValue } | { ok: false; error: RunError } | "fatal" {
    const p = this.profiler;
    if (p === null) return this.callHost(name, args);
    const timing = p.enterHost(name, args, this.vm.callingL);
    try {
      return this.callHost(name, args);
    } finally {
      p.leaveHost(timing);
    }
  }

  private callHost(name: string, args: HostValue[]): { ok: true; value: HostValue } | { ok: false; error: RunError } | "fatal" {
    const refused = this.agent?.refusal(name);
    if (refused) return { ok: false, error: refused };
    const local = this.locals.get(name);
    if (local) {
      try {
        const out = local.fn(...args);
        if (out instanceof Promise) {
          out.catch(() => undefined);
          return { ok: false, error: { type: "InvalidOperation", message: `worker function ${name} returned a promise; define it with { kind: "async" }` } };
        }
        return { ok: true, value: out };
      } catch (e) {
        return { ok: false, error: toRunError(e) };
      }
    }
    const id = this.nextCall++;
    this.post({ t: "call", runId: this.spec.runId, id, name, args: args.map(toWire) });
    const reply = this.waitReply(id);
    if (reply === "fatal") return "fatal";
    return reply.ok ? { ok: true, value: fromWire(reply.value) } : { ok: false, error: reply.error ?? { type: "InternalError", message: "call failed" } };
  }

  hostAsync(name: string, args: HostValue[]): { ok: true; id: number } | { ok: false; error: RunError } {
    const refused = this.agent?.refusal(name);
    if (refused) return { ok: false, error: refused };
    const id = this.newFuture(false);
    this.profiler?.labelFuture(id, name);
    const local = this.locals.get(name);
    if (local) {
      let p: Promise<HostValue>;
      try {
        p = Promise.resolve(local.fn(...args));
      } catch (e) {
        p = Promise.reject(e);
      }
      p.then(
        (v) => this.settle(id, "ok", v),
        (e) => this.settle(id, "error", null, toRunError(e)),
      );
      return { ok: true, id };
    }
    this.post({ t: "async", runId: this.spec.runId, id, name, args: args.map(toWire) });
    return { ok: true, id };
  }

  emit(name: string, args: HostValue[]): void {
    this.post({ t: "event", runId: this.spec.runId, name, args: args.map(toWire) });
  }

  poll(id: number): [PollStatus, HostValue] {
    if (this.isFatal()) return ["fatal", null];
    const f = this.futures.get(id);
    if (f && f.status === "ok") return ["ok", f.value];
    if (f && f.status === "error") {
      const e = f.error ?? { type: "InternalError", message: "failed" };
      return ["error", { type: e.type, message: e.message, details: e.details ?? {} }];
    }
    if (this.awaitCancels()) return ["cancelled", null];
    if (!f) return ["error", { type: "InvalidOperation", message: `unknown future ${id}`, details: {} }];
    return ["pending", null];
  }

  tick(): void {
    if (this.flushers.length === 0) return;
    const now = performance.now();
    if (now - this.lastFlush >= FLUSH_EVERY_MS) this.flushPoint(now);
  }

  private flushPoint(now = performance.now()): void {
    this.lastFlush = now;
    for (const f of this.flushers) f();
  }

  isFatal(): boolean {
    if (Atomics.load(this.ch.i32, SLOT_KILL) === 1) return true;
    const d = this.ch.f64[F64_DEADLINE];
    return d > 0 && epochNow() > d;
  }

  awaitCancels(): boolean {
    return this.phase === "main" && this.cancelled();
  }

  cancelled(): boolean {
    return Atomics.load(this.ch.i32, SLOT_CANCEL) === 1;
  }

  sleep(ms: number): number {
    const id = this.newFuture(true);
    this.profiler?.labelFuture(id, "sleep");
    // A replay does not wait: what a sleep decided (a race's winner) is replayed from the record.
    if (this.spec.replayTiming !== null) ms = 0;
    if (ms > 0 && this.bindingKinds.get(SLEEP_BINDING) === "async") {
      // A clock of the host's (a test's virtual time) decides when the sleep is over.
      const r = this.hostAsync(SLEEP_BINDING, [ms]);
      const done = (): void => {
        this.noteTiming("sleep", ms);
        this.settle(id, "ok", null);
      };
      if (r.ok) this.futures.get(r.id)?.listeners.push(done);
      return id;
    }
    if (!(ms > 0)) {
      const im = setImmediate(() => {
        this.immediates.delete(im);
        this.settle(id, "ok", null);
      });
      this.immediates.add(im);
    } else {
      const t = setTimeout(() => {
        this.timers.delete(t);
        this.noteTiming("sleep", ms);
        this.settle(id, "ok", null);
      }, ms);
      this.timers.add(t);
    }
    return id;
  }

  race(ids: number[]): number {
    const id = this.newFuture(false);
    const prof = this.profiler;
    if (prof !== null) prof.labelFuture(id, `race(${ids.map((i) => prof.labelOf(i)).join(", ")})`);
    const n = ++this.races;
    let winner: number | null = null;
    if (this.spec.replayTiming !== null) {
      winner = this.spec.replayTiming.races[n - 1] ?? null;
      if (winner === null || winner < 1 || winner > ids.length) {
        this.noteTiming("race", null);
        this.settle(id, "error", null, { type: "InvalidOperation", message: `replay: the recorded inputs ran out at core.race #${n} (the run recorded ${this.spec.replayTiming.races.length} race outcome(s))` });
        return id;
      }
    }
    this.futures.race(id, ids, winner, (index) => this.noteTiming("race", index));
    return id;
  }

  resolved(value: HostValue): number {
    const id = this.newFuture(false);
    this.settle(id, "ok", value);
    return id;
  }

  unhandled(name: string, error: RunError): "skip" | "abort" | "fatal" {
    const id = this.nextCall++;
    this.post({ t: "unhandled", runId: this.spec.runId, id, name, error });
    const reply = this.waitReply(id);
    if (reply === "fatal") return "fatal";
    return reply.decision === "skip" ? "skip" : "abort";
  }

  firstLine(): void {
    this.post({ t: "firstLine", runId: this.spec.runId, at: epochNow() });
  }

  // ---- internals ----

  private post(msg: FromWorker): void {
    this.ch.post(msg);
  }

  private install(): void {
    const { vm, sb, spec } = this;
    const L = sb.L;
    for (const [path, value] of Object.entries(spec.globals)) {
      vm.callApi(sb, "install_value", () => {
        vm.values.pushString(L, path);
        vm.values.push(L, fromWire(value));
        return 2;
      }, 0);
    }
    this.batchBindings();
    for (const b of spec.bindings) {
      // A "print" binding is where the sandbox's print sends its lines, not a replacement for it.
      if (!b.expose || b.name === "print") continue;
      this.installBinding(b.name, b.name, b.kind, b.guarded);
    }
    this.flushBindings();
    const names = new Set(spec.bindings.map((b) => b.name));
    const target = names.has("print") ? "print" : names.has("log.info") ? "log.info" : null;
    vm.callApi(sb, "set_print_target", () => (target ? vm.values.pushString(L, target) : vm.lua.lua_pushnil(L), 1), 0);
  }

  /**
   * From here to flushBindings, bindings are collected and installed with one call into Lua:
   * a run installs about eighty (the script API's functions, its gate's, its I/O's), and one
   * protected call each was 6 % of a trigger run's worker time.
   */
  private batchBindings(): void {
    this.pendingBindings ??= [];
  }

  private flushBindings(): void {
    const list = this.pendingBindings;
    this.pendingBindings = null;
    if (list === null || list.length === 0) return;
    const { vm, sb } = this;
    vm.activate(sb, this);
    vm.callApi(sb, "install_bindings", () => (vm.values.pushString(sb.L, list.join("")), 1), 0);
  }

  private installBinding(path: string, name: string, kind: string, guarded: boolean): void {
    const pending = this.pendingBindings;
    if (pending !== null) {
      // Fields never hold the separators (dotted paths); one that did is installed on its own, in order.
      if (!holdsSeparator(path) && !holdsSeparator(name) && !holdsSeparator(kind)) {
        pending.push(`${path}\x1f${name}\x1f${kind}\x1f${guarded ? "1" : "0"}\x1e`);
        return;
      }
      this.flushBindings();
      this.pendingBindings = [];
    }
    const { vm, sb } = this;
    vm.activate(sb, this);
    vm.callApi(sb, "install_binding", () => {
      vm.values.pushString(sb.L, path);
      vm.values.pushString(sb.L, name);
      vm.values.pushString(sb.L, kind);
      vm.lua.lua_pushboolean(sb.L, guarded ? 1 : 0);
      return 4;
    }, 0);
  }

  private contextFor(options: HostValue): WorkerModuleContext {
    const fail = (r: RunError): never => {
      throw new HostCallError(r.type, r.message, r.details);
    };
    return {
      runId: this.spec.runId,
      chunkName: this.spec.chunkName,
      options,
      define: (path, fn, opts) => {
        const kind = opts?.kind ?? "sync";
        const name = `\u0000local:${path}`;
        this.locals.set(name, { kind, guarded: opts?.guarded ?? false, fn });
        this.installBinding(path, name, kind, opts?.guarded ?? false);
      },
      callSync: (name, args) => {
        if (!this.bindingKinds.has(name) && !this.locals.has(name)) fail({ type: "InvalidOperation", message: `no host binding named ${name}` });
        const r = this.hostCall(name, args);
        if (r === "fatal") return fail({ type: "Timeout", message: "the run was stopped during a host call" });
        return r.ok ? r.value : fail(r.error);
      },
      callAsync: (name, args) =>
        new Promise<HostValue>((resolve, reject) => {
          const r = this.hostAsync(name, args);
          if (!r.ok) return reject(new HostCallError(r.error.type, r.error.message, r.error.details));
          const f = this.futures.get(r.id);
          const done = (): void => {
            if (f?.status === "ok") resolve(f.value);
            else reject(new HostCallError(f?.error?.type ?? "InternalError", f?.error?.message ?? "failed", f?.error?.details));
          };
          if (f && f.status !== "pending") done();
          else f?.listeners.push(done);
        }),
      emit: (name, args) => this.emit(name, args),
      onFinish: (fn) => void this.finishers.push(fn),
      onFlushPoint: (fn) => void this.flushers.push(fn),
      cancelled: () => this.cancelled(),
    };
  }

  private hasShutdown(): boolean {
    const { vm, sb } = this;
    vm.callApi(sb, "has_shutdown", () => 0, 1);
    const yes = vm.lua.lua_toboolean(sb.L, -1) !== 0;
    vm.lua.lua_settop(sb.L, -2);
    return yes;
  }

  private runPhase(apiName: string, pushArgs: () => number): Promise<PhaseResult> {
    const { vm, sb } = this;
    const lua = vm.lua;
    const co = lua.lua_newthread(sb.L);
    if (this.profiler !== null) vm.sampleEvery(co, this.profiler.sampleEvery);
    this.agent?.attachPhase(co, apiName === "main_phase" ? "main" : "on_shutdown");
    this.coRef = lua.luaL_ref(sb.L, LUA_REGISTRYINDEX);
    this.co = co;
    vm.pushApi(co, sb, apiName);
    const nargs = pushArgs();
    return new Promise<PhaseResult>((resolve) => {
      this.phaseDone = (t) => {
        lua.luaL_unref(sb.L, LUA_REGISTRYINDEX, this.coRef);
        this.phaseDone = null;
        this.waiting = null;
        resolve(this.toPhaseResult(t));
      };
      this.step(nargs);
    });
  }

  private toPhaseResult(t: PhaseTable | { status: "crash"; message: string }): PhaseResult {
    return toPhaseResult(t, { killed: Atomics.load(this.ch.i32, SLOT_KILL) === 1, fatal: () => this.isFatal(), cancelled: this.phase === "main" && this.cancelled(), memoryBytes: this.spec.memoryBytes });
  }

  private step(nargs: number): void {
    this.vm.activate(this.sb, this);
    this.profiler?.resumed();
    for (;;) {
      const r = this.vm.resume(this.sb.L, this.co, nargs);
      nargs = 0;
      if (r.kind === "yield") {
        if (r.id === null) continue;
        const f = this.futures.get(r.id);
        if ((f && f.status !== "pending") || this.isFatal() || this.awaitCancels()) continue;
        this.waiting = r.id;
        if (this.profiler !== null) {
          this.profiler.suspended();
          this.profiler.park(r.id, this.co);
        }
        this.flushPoint();
        return;
      }
      this.profiler?.suspended();
      const done = this.phaseDone;
      if (done) done(r.kind === "done" ? r.table : { status: "crash", message: r.message });
      return;
    }
  }

  private newFuture(sleep: boolean): number {
    return this.futures.create(sleep);
  }

  private settle(id: number, status: "ok" | "error", value: HostValue, error?: RunError): void {
    this.futures.settle(id, status, value, error);
  }

  private waitReply(id: number): SyncReply | "fatal" {
    const { i32, f64, replyPort } = this.ch;
    for (;;) {
      const m = receiveMessageOnPort(replyPort);
      if (m) {
        const r = m.message as SyncReply;
        if (r.id === id && r.runId === this.spec.runId) return r;
        continue;
      }
      if (this.isFatal()) return "fatal";
      const d = f64[F64_DEADLINE];
      const remaining = d > 0 ? Math.max(1, d - epochNow()) : 1000;
      Atomics.wait(i32, SLOT_REPLY, 0, Math.min(remaining, 1000));
      Atomics.store(i32, SLOT_REPLY, 0);
    }
  }

  private setDeadline(ms: number): void {
    this.clearDeadline();
    this.ch.f64[F64_DEADLINE] = epochNow() + ms;
    this.deadlineTimer = setTimeout(() => this.wake(), ms + 1);
  }

  /** After a debugger pause moved F64_DEADLINE on: the wake-up timer follows it. */
  private followDeadline(): void {
    const d = this.ch.f64[F64_DEADLINE];
    if (d <= 0 || this.deadlineTimer === null) return;
    clearTimeout(this.deadlineTimer);
    this.deadlineTimer = setTimeout(() => this.wake(), Math.max(1, d - epochNow()) + 1);
  }

  private clearDeadline(): void {
    if (this.deadlineTimer) clearTimeout(this.deadlineTimer);
    this.deadlineTimer = null;
  }

  private dispose(): void {
    for (const t of this.timers) clearTimeout(t);
    for (const im of this.immediates) clearImmediate(im);
    this.timers.clear();
    this.immediates.clear();
    this.futures.clear();
    this.agent?.close();
    if (this.vm.current === this) this.vm.deactivate();
  }
}
