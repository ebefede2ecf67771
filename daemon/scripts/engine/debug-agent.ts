/**
 * A debugged run's agent (worker side). It sees every hook call first: count events only
 * while nothing asks for lines (so an attached debugger without breakpoints costs a Map
 * lookup and two atomic loads per 10,000 instructions), line events while breakpoints or a
 * step are set. To pause it blocks right there, inside the hook (or the break primitive),
 * on Atomics.wait, serving the debugger's requests from its port until told to go on; the
 * run's time limit does not count the paused time. Inspection runs in debug-agent.lua.
 */
import { readFileSync } from "node:fs";
import { receiveMessageOnPort } from "node:worker_threads";
import type { MessagePort } from "node:worker_threads";
import { DBG_PAUSE, DBG_PENDING, DBG_WAKE } from "./debug-wire.ts";
import type { FromAgent, LineBreakpoint, StepKind, StopReason, ToAgent } from "./debug-wire.ts";
import { LUA_REGISTRYINDEX, T_STRING } from "./lua-values.ts";
import type { DebugHooks, LuaVm, Sandbox } from "./lua-vm.ts";
import type { HostValue, RunError } from "./types.ts";
import { epochNow, F64_DEADLINE, SLOT_KILL } from "./wire.ts";

const LUA_HOOKLINE = 2;
const AGENT_SOURCE = readFileSync(new URL("./debug-agent.lua", import.meta.url), "utf8");
/** How often a blocked agent looks at the kill flag and pushes the run's deadline on. */
const BLOCK_SLICE_MS = 100;

interface Breakpoint {
  id: number;
  condition: string | null;
  hit: ((hits: number) => boolean) | null;
  logMessage: string | null;
  hits: number;
}

interface Step {
  kind: StepKind | "pause";
  L: number;
  depth: number;
}

/** What the agent needs of its run: the shared control slots, and a way to re-arm the deadline. */
export interface AgentRun {
  i32: Int32Array;
  f64: Float64Array;
  /** The run went on after a pause: F64_DEADLINE was pushed on, the run's own timer follows it. */
  resumed(): void;
}

export class DebugAgent implements DebugHooks {
  private readonly signal: Int32Array;
  private ref = 0;
  private readonly bps = new Map<string, Map<number, Breakpoint>>();
  private lines = new Set<number>();
  private nextBp = 1;
  private step: Step | null = null;
  private lineMode = false;
  private gen = 0;
  private readonly gens = new Map<number, number>();
  private busy = false;
  private paused = 0;
  private started = false;
  /** Set while a read-only evaluation runs: host calls are refused. */
  private readOnly = false;
  private readonly early: ToAgent[] = [];

  constructor(
    private readonly port: MessagePort,
    signal: SharedArrayBuffer,
    private readonly vm: LuaVm,
    private readonly sb: Sandbox,
    private readonly run: AgentRun,
    /** The hook's instruction count (a profiled run's sample rate); undefined: the engine's. */
    private readonly every: number | undefined,
  ) {
    this.signal = new Int32Array(signal);
    // Requests that arrive while the worker waits on the event loop (not in Lua, not paused).
    port.on("message", (m: ToAgent) => {
      // Before the inspection chunk is loaded nothing can be answered: kept for waitForStart.
      if (this.ref === 0) this.early.push(m);
      else if (!this.busy) this.handle(m, this.sb.L);
    });
  }

  /** Loads the inspection chunk into the sandbox's state; `mainChunk` names the script's own chunk. */
  load(mainChunk: string): void {
    const { vm, sb } = this;
    vm.callApi(sb, "load_debugger", () => {
      vm.values.pushString(sb.L, AGENT_SOURCE);
      vm.values.pushString(sb.L, "=" + mainChunk);
      return 2;
    }, 1);
    this.ref = vm.lua.luaL_ref(sb.L, LUA_REGISTRYINDEX);
    this.call(sb.L, "snapshot_builtins", () => 0);
  }

  /** A phase's coroutine (on top of sb.L's stack): a thread the debugger lists, hooked as the mode says. */
  attachPhase(co: number, name: string): void {
    const L = this.sb.L;
    const at = this.vm.lua.lua_gettop(L);
    this.call(L, "register_main", () => {
      this.vm.lua.lua_pushvalue(L, at);
      this.vm.values.pushString(L, name);
      return 2;
    });
    this.vm.debugHook(co, this.lineMode, this.every);
    this.gens.set(co, this.gen);
  }

  /** Blocks until the debugger says configurationDone (breakpoints set before the first line). */
  waitForStart(): void {
    for (const m of this.early.splice(0)) this.handle(m, this.sb.L);
    while (!this.started && Atomics.load(this.run.i32, SLOT_KILL) !== 1) {
      // Not yet running: keep the main thread's watchdog from taking this for a stuck run.
      this.run.f64[F64_DEADLINE] = epochNow() + 10 * BLOCK_SLICE_MS;
      if (!this.drainOnce(this.sb.L)) this.block();
    }
    this.run.f64[F64_DEADLINE] = 0;
  }

  /** Host calls refused during a read-only evaluation, with why. */
  refusal(name: string): RunError | null {
    if (!this.readOnly) return null;
    // Worker-module functions are bindings named "\u0000local:<path>" (WorkerRun.contextFor).
    const shown = name.startsWith("\u0000local:") ? name.slice("\u0000local:".length) : name;
    return { type: "PermissionDenied", message: `evaluate is read-only: ${shown} is not called while the debugger evaluates (launch with evaluateWrites = true to allow it)` };
  }

  close(): void {
    this.port.close();
  }

  // ---- DebugHooks ----

  hook(L: number, ar: number): boolean {
    if (this.busy) return true;
    const st = this.vm.stack;
    if (st.hookEvent(ar) === LUA_HOOKLINE) {
      this.onLine(L, ar, st.hookLine(ar));
      return true;
    }
    if (this.gens.get(L) !== this.gen) {
      this.vm.debugHook(L, this.lineMode, this.every);
      this.gens.set(L, this.gen);
    }
    if (Atomics.load(this.signal, DBG_PENDING) === 1) this.drain(L);
    if (Atomics.load(this.signal, DBG_PAUSE) === 1 && this.paused === 0) this.stop(L, "pause");
    return false;
  }

  brk(L: number, kind: string, text: string): void {
    if (this.busy) return;
    this.stop(L, "exception", { description: kind === "caught" ? "Paused on an error (caught by pcall)" : "Paused on an uncaught error", text });
  }

  // ---- internals ----

  private onLine(L: number, ar: number, line: number): void {
    if (this.lines.has(line)) {
      const bp = this.bps.get(this.vm.stack.hookSource(L, ar))?.get(line);
      if (bp !== undefined && this.shouldStop(L, bp)) return this.stop(L, "breakpoint", { breakpointIds: [bp.id] });
    }
    const s = this.step;
    if (s === null) return;
    if (s.kind === "pause") return this.stop(L, "pause");
    if (s.kind === "in") return this.stop(L, "step");
    if (L !== s.L) return;
    const d = this.vm.stack.depth(L);
    if (s.kind === "next" ? d <= s.depth : d < s.depth) this.stop(L, "step");
  }

  private shouldStop(L: number, bp: Breakpoint): boolean {
    this.busy = true;
    try {
      if (bp.condition !== null) {
        const r = this.call(L, "condition", () => (this.vm.values.pushString(L, bp.condition ?? ""), 1)) as { ok: boolean; value?: boolean; message?: string };
        if (!r.ok) {
          this.post({ t: "output", text: `breakpoint condition "${bp.condition}" failed: ${r.message ?? "error"}\n` });
          return true;
        }
        if (r.value !== true) return false;
      }
      bp.hits++;
      if (bp.hit !== null && !bp.hit(bp.hits)) return false;
      if (bp.logMessage !== null) {
        const text = this.call(L, "interpolate", () => (this.vm.values.pushString(L, bp.logMessage ?? ""), 1));
        this.post({ t: "output", text: `${String(text)}\n` });
        return false;
      }
      return true;
    } finally {
      this.busy = false;
    }
  }

  private stop(L: number, reason: StopReason, extra: { description?: string; text?: string; breakpointIds?: number[] } = {}): void {
    this.busy = true;
    this.paused = L;
    this.step = null;
    Atomics.store(this.signal, DBG_PAUSE, 0);
    const { f64, i32 } = this.run;
    const deadline = f64[F64_DEADLINE];
    const remaining = deadline > 0 ? Math.max(1, deadline - epochNow()) : 0;
    let threadId = 0;
    try {
      threadId = Number(this.call(L, "current_thread", () => 0));
      this.post({ t: "stopped", reason, threadId, ...extra });
      for (;;) {
        if (Atomics.load(i32, SLOT_KILL) === 1) break;
        if (this.paused === 0) break;
        if (this.drainOnce(L)) continue;
        // The run's time limit counts running time only: a paused run's deadline moves on.
        if (remaining > 0) f64[F64_DEADLINE] = epochNow() + remaining;
        this.block();
      }
      this.call(L, "reset", () => 0);
    } finally {
      this.paused = 0;
      this.busy = false;
    }
    this.vm.stack.forgetSources();
    this.updateMode(L);
    this.post({ t: "continued", threadId });
    this.run.resumed();
  }

  private block(): void {
    Atomics.wait(this.signal, DBG_WAKE, 0, BLOCK_SLICE_MS);
    Atomics.store(this.signal, DBG_WAKE, 0);
  }

  /** Serves every queued request (from the count hook: Lua is running). */
  private drain(L: number): void {
    Atomics.store(this.signal, DBG_PENDING, 0);
    this.busy = true;
    try {
      while (this.drainOnce(L));
    } finally {
      this.busy = false;
    }
    this.updateMode(L);
  }

  private drainOnce(L: number): boolean {
    const m = receiveMessageOnPort(this.port);
    if (!m) return false;
    this.handle(m.message as ToAgent, L);
    return true;
  }

  private handle(m: ToAgent, L: number): void {
    let body: HostValue = null;
    try {
      body = this.serve(m, L);
    } catch (e) {
      this.post({ t: "reply", id: m.id, ok: false, message: e instanceof Error ? e.message : String(e) });
      return;
    }
    this.post({ t: "reply", id: m.id, ok: true, body });
    if (this.paused === 0 && (m.t === "setBreakpoints" || m.t === "pause")) this.updateMode(L);
  }

  private serve(m: ToAgent, L: number): HostValue {
    const lua = this.vm.lua;
    const values = this.vm.values;
    switch (m.t) {
      case "setBreakpoints":
        return this.setBreakpoints(m.source, m.breakpoints);
      case "exceptions":
        this.call(L, "exceptions", () => (lua.lua_pushboolean(L, m.caught ? 1 : 0), lua.lua_pushboolean(L, m.uncaught ? 1 : 0), 2));
        return null;
      case "start":
        this.started = true;
        return null;
      case "continue":
        this.paused = 0;
        return null;
      case "step":
        if (this.paused === 0) throw new Error("the run is not paused: there is nothing to step from");
        this.step = { kind: m.kind, L: this.paused, depth: this.vm.stack.depth(this.paused) };
        this.paused = 0;
        return null;
      case "pause":
        if (this.paused === 0) this.step = { kind: "pause", L: 0, depth: 0 };
        return null;
      case "threads":
        return this.call(L, "threads", () => 0);
      case "stack":
        this.needPaused();
        return this.call(L, "stack", () => (values.push(L, m.threadId), 1));
      case "scopes":
        this.needPaused();
        return this.call(L, "scopes", () => (values.push(L, m.frameId), 1));
      case "variables":
        this.needPaused();
        return this.call(L, "variables", () => (values.push(L, m.ref), values.push(L, m.start), values.push(L, m.count), 3));
      case "evaluate":
        this.needPaused();
        this.readOnly = !m.writable;
        try {
          return this.call(L, "evaluate", () => (values.push(L, m.frameId), values.pushString(L, m.expression), lua.lua_pushboolean(L, m.writable ? 1 : 0), 3));
        } finally {
          this.readOnly = false;
        }
      case "setVariable":
        this.needPaused();
        return this.call(L, "set_variable", () => (values.push(L, m.ref), values.pushString(L, m.name), values.pushString(L, m.value), 3));
    }
  }

  private needPaused(): void {
    if (this.paused === 0) throw new Error("the run is not paused");
  }

  private setBreakpoints(source: string, list: LineBreakpoint[]): HostValue {
    const byLine = new Map<number, Breakpoint>();
    const out: HostValue[] = [];
    for (const b of list) {
      const id = this.nextBp++;
      const hit = b.hitCondition !== undefined && b.hitCondition !== "" ? hitTest(b.hitCondition) : null;
      if (typeof hit === "string") {
        out.push({ id, line: b.line, verified: false, message: hit });
        continue;
      }
      byLine.set(b.line, { id, condition: b.condition ? b.condition : null, hit, logMessage: b.logMessage ? b.logMessage : null, hits: 0 });
      out.push({ id, line: b.line, verified: true });
    }
    if (byLine.size > 0) this.bps.set(source, byLine);
    else this.bps.delete(source);
    const lines = new Set<number>();
    for (const m of this.bps.values()) for (const line of m.keys()) lines.add(line);
    this.lines = lines;
    return out;
  }

  /** Line events on while anything needs them; every live thread follows at once. */
  private updateMode(L: number): void {
    const want = this.lines.size > 0 || this.step !== null;
    if (want === this.lineMode) return;
    this.lineMode = want;
    this.gen++;
    const lua = this.vm.lua;
    const top = lua.lua_gettop(L);
    try {
      this.pushCall(L, "thread_list", () => 0);
      const n = Number(lua.lua_rawlen(L, -1));
      for (let i = 1; i <= n; i++) {
        lua.lua_rawgeti(L, -1, BigInt(i));
        const t = lua.lua_tothread(L, -1);
        lua.lua_settop(L, -2);
        this.vm.debugHook(t, want, this.every);
        this.gens.set(t, this.gen);
      }
    } finally {
      lua.lua_settop(L, top);
    }
    this.vm.debugHook(L, want, this.every);
    this.gens.set(L, this.gen);
  }

  /** Calls agent.<name> on L with what `push` pushed; leaves its one result on the stack. */
  private pushCall(L: number, name: string, push: () => number): void {
    const lua = this.vm.lua;
    lua.lua_rawgeti(L, LUA_REGISTRYINDEX, BigInt(this.ref));
    lua.lua_getfield(L, -1, name);
    lua.lua_rotate(L, -2, 1);
    lua.lua_settop(L, -2);
    const n = push();
    if (lua.lua_pcallk(L, n, 1, 0, 0, null) !== 0) {
      const msg = lua.lua_type(L, -1) === T_STRING ? this.vm.values.readString(L, -1) : "debugger error";
      throw new Error(msg);
    }
  }

  private call(L: number, name: string, push: () => number): HostValue {
    const top = this.vm.lua.lua_gettop(L);
    try {
      this.pushCall(L, name, push);
      return this.vm.values.read(L, -1);
    } finally {
      this.vm.lua.lua_settop(L, top);
    }
  }

  private post(m: FromAgent): void {
    this.port.postMessage(m);
  }
}

/** A hit condition: "N" or "== N" (the Nth hit), ">= N", "> N", "% N" (every Nth); or why not. */
function hitTest(text: string): ((hits: number) => boolean) | string {
  const m = /^\s*(==|>=|>|%)?\s*(\d+)\s*$/.exec(text);
  if (!m) return `hit condition "${text}" is not one of: N, == N, >= N, > N, % N`;
  const n = Number(m[2]);
  switch (m[1]) {
    case ">=":
      return (h) => h >= n;
    case ">":
      return (h) => h > n;
    case "%":
      return (h) => n > 0 && h % n === 0;
    default:
      return (h) => h === n;
  }
}
