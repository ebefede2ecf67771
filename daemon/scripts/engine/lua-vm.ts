/**
 * One wasm Lua module per worker, and the sandboxed lua_States made from it (worker side).
 * The C functions Lua calls (host calls, futures, the instruction hook, the allocator) are
 * created once here and forward to whichever run is current: a worker runs one at a time.
 */
import { readFileSync } from "node:fs";
import { LuaFactory } from "wasmoon";
import type { LuaWasm } from "wasmoon";
import { LuaStack } from "./lua-stack.ts";
import { LuaValues, LUA_REGISTRYINDEX, T_NUMBER, T_STRING } from "./lua-values.ts";
import type { HostValue, RunError, SyntaxProblem } from "./types.ts";
import { parseSyntaxError } from "./syntax.ts";

const LUA_OK = 0;
const LUA_YIELD = 1;
const MASK_LINE = 4;
const MASK_COUNT = 8;
/** Instructions between two deadline/kill checks: ~0.1 ms of Lua here, negligible cost. */
const HOOK_EVERY = 10_000;
/** Compiled sources a worker keeps (see LuaVm.compile); a show has far fewer scripts. */
const BYTECODE_KEPT = 64;

export type PollStatus = "pending" | "ok" | "error" | "cancelled" | "fatal";

/** What the current run answers when Lua calls into the engine. */
export interface RunPrims {
  /** Called from the instruction hook (every HOOK_EVERY instructions) while Lua runs. */
  tick(): void;
  /** Present on a profiled run: called from the hook before tick, with the running thread. */
  readonly sample?: (L: number) => void;
  /** Present on a debugged run: sees every hook call first (see DebugHooks). */
  readonly debug?: DebugHooks;
  hostCall(name: string, args: HostValue[]): { ok: true; value: HostValue } | { ok: false; error: RunError } | "fatal";
  hostAsync(name: string, args: HostValue[]): { ok: true; id: number } | { ok: false; error: RunError };
  emit(name: string, args: HostValue[]): void;
  poll(id: number): [PollStatus, HostValue];
  isFatal(): boolean;
  awaitCancels(): boolean;
  cancelled(): boolean;
  sleep(ms: number): number;
  race(ids: number[]): number;
  resolved(value: HostValue): number;
  unhandled(name: string, error: RunError): "skip" | "abort" | "fatal";
  firstLine(): void;
}

/** A debugged run's side of the hook and of the break primitive (engine/debug-agent.ts). */
export interface DebugHooks {
  /** Every hook call, with its lua_Debug; true: a line event it handled (the count work is skipped). */
  hook(L: number, ar: number): boolean;
  /** The script's error handler met an error to break on ("caught" or "uncaught"). */
  brk(L: number, kind: string, text: string): void;
}

interface MemoryStats {
  used: number;
  max: number;
}

export interface Sandbox {
  readonly L: number;
  readonly ud: number;
  readonly stats: MemoryStats;
  readonly apiRef: number;
  readonly fatalRef: number;
}

export type PhaseTable = { status: "ok" } | { status: "fatal" } | ({ status: "error" } & RunError);

export class LuaVm {
  readonly values: LuaValues;
  /** Reads call stacks (the profiler's samples). */
  readonly stack: LuaStack;
  current: RunPrims | null = null;
  /** The thread whose sync host call is being served (0: none): where a profile's host call was made. */
  callingL = 0;
  private readonly allocPtr: number;
  private readonly hookPtr: number;
  private readonly prims: [string, number][] = [];
  private readonly statsByUd = new Map<number, MemoryStats>();
  private nextUd = 1;
  private readonly nresPtr: number;
  private fatalRef = 0;
  /** Bytecode of sources that compiled, by chunk name and source (see compile). */
  private readonly bytecode = new Map<string, Uint8Array>();

  static async create(): Promise<LuaVm> {
    const lua = await new LuaFactory().getLuaModule();
    return new LuaVm(lua, readFileSync(new URL("./sandbox.lua", import.meta.url), "utf8"));
  }

  private constructor(readonly lua: LuaWasm, private readonly bootstrap: string) {
    this.values = new LuaValues(lua);
    this.stack = new LuaStack(lua);
    const mod = lua.module as unknown as {
      addFunction(fn: (...a: number[]) => number | void, sig: string): number;
      _malloc(n: number): number;
      _free(p: number): void;
      _realloc(p: number, n: number): number;
    };
    this.nresPtr = mod._malloc(8);
    this.allocPtr = mod.addFunction((ud: number, ptr: number, osize: number, nsize: number): number => {
      const stats = this.statsByUd.get(ud);
      if (nsize === 0) {
        if (ptr) {
          if (stats) stats.used -= osize;
          mod._free(ptr);
        }
        return 0;
      }
      const delta = ptr ? nsize - osize : nsize;
      if (stats && delta > 0 && stats.used + delta > stats.max) return 0;
      const out = mod._realloc(ptr, nsize);
      if (out && stats) stats.used += delta;
      return out;
    }, "iiiii");
    this.hookPtr = mod.addFunction((L: number, ar: number): void => {
      const cur = this.current;
      if (cur === null) return;
      if (cur.debug !== undefined && cur.debug.hook(L, ar) && !cur.isFatal()) return;
      cur.sample?.(L);
      cur.tick();
      if (cur.isFatal()) {
        lua.lua_rawgeti(L, LUA_REGISTRYINDEX, BigInt(this.fatalRef));
        lua.lua_error(L);
      }
    }, "vii");
    const def = (name: string, body: (L: number) => number): void => {
      this.prims.push([name, mod.addFunction(body, "ii")]);
    };
    const v = this.values;
    const run = (): RunPrims => {
      if (this.current === null) throw new Error("no run is current in this worker");
      return this.current;
    };
    const argsFrom = (L: number, first: number): HostValue[] => {
      const top = lua.lua_gettop(L);
      const out: HostValue[] = [];
      for (let i = first; i <= top; i++) out.push(v.read(L, i));
      return out;
    };
    const pushError = (L: number, error: RunError): void => {
      lua.lua_pushboolean(L, 0);
      v.push(L, { type: error.type, message: error.message, details: error.details ?? {} });
    };
    const raiseFatal = (L: number): number => {
      lua.lua_rawgeti(L, LUA_REGISTRYINDEX, BigInt(this.fatalRef));
      return lua.lua_error(L);
    };
    const badArgs = (e: unknown): RunError => ({ type: "InvalidOperation", message: e instanceof Error ? e.message : String(e) });

    def("call", (L) => {
      let r: ReturnType<RunPrims["hostCall"]>;
      this.callingL = L;
      try {
        r = run().hostCall(v.readString(L, 1), argsFrom(L, 2));
      } catch (e) {
        r = { ok: false, error: badArgs(e) };
      } finally {
        // A host call made later from outside Lua (a worker module's timer) has no Lua caller.
        this.callingL = 0;
      }
      if (r === "fatal") return raiseFatal(L);
      if (r.ok) {
        lua.lua_pushboolean(L, 1);
        v.push(L, r.value);
      } else pushError(L, r.error);
      return 2;
    });
    def("async", (L) => {
      let r: ReturnType<RunPrims["hostAsync"]>;
      try {
        r = run().hostAsync(v.readString(L, 1), argsFrom(L, 2));
      } catch (e) {
        r = { ok: false, error: badArgs(e) };
      }
      if (r.ok) {
        lua.lua_pushboolean(L, 1);
        lua.lua_pushinteger(L, BigInt(r.id));
      } else pushError(L, r.error);
      return 2;
    });
    def("emit", (L) => {
      try {
        run().emit(v.readString(L, 1), argsFrom(L, 2));
        lua.lua_pushboolean(L, 1);
        return 1;
      } catch (e) {
        pushError(L, badArgs(e));
        return 2;
      }
    });
    def("poll", (L) => {
      const [status, value] = run().poll(Number(lua.lua_tointegerx(L, 1, null)));
      lua.lua_pushstring(L, status);
      if (status === "error" && value !== null && typeof value === "object") {
        v.push(L, value);
      } else v.push(L, value);
      return 2;
    });
    def("is_fatal", (L) => {
      lua.lua_pushboolean(L, this.current !== null && this.current.isFatal() ? 1 : 0);
      return 1;
    });
    def("await_cancels", (L) => {
      lua.lua_pushboolean(L, run().awaitCancels() ? 1 : 0);
      return 1;
    });
    def("cancelled", (L) => {
      lua.lua_pushboolean(L, run().cancelled() ? 1 : 0);
      return 1;
    });
    def("sleep", (L) => {
      lua.lua_pushinteger(L, BigInt(run().sleep(lua.lua_tonumberx(L, 1, null))));
      return 1;
    });
    def("race", (L) => {
      const ids: number[] = [];
      for (let i = 1; i <= lua.lua_gettop(L); i++) ids.push(Number(lua.lua_tointegerx(L, i, null)));
      lua.lua_pushinteger(L, BigInt(run().race(ids)));
      return 1;
    });
    def("resolved", (L) => {
      let value: HostValue;
      try {
        value = v.read(L, 1);
      } catch {
        value = null;
      }
      lua.lua_pushinteger(L, BigInt(run().resolved(value)));
      return 1;
    });
    def("unhandled", (L) => {
      let decision: "skip" | "abort" | "fatal";
      try {
        const err = v.read(L, 2) as { type?: unknown; message?: unknown; details?: unknown };
        const error: RunError = { type: String(err?.type ?? "InternalError"), message: String(err?.message ?? "") };
        if (err?.details && typeof err.details === "object" && !Array.isArray(err.details)) error.details = err.details as Record<string, HostValue>;
        decision = run().unhandled(v.readString(L, 1), error);
      } catch {
        decision = "abort";
      }
      if (decision === "fatal") return raiseFatal(L);
      lua.lua_pushstring(L, decision);
      return 1;
    });
    def("debug_break", (L) => {
      run().debug?.brk(L, v.readString(L, 1), v.readString(L, 2));
      return 0;
    });
    def("first_line", () => {
      run().firstLine();
      return 0;
    });
  }

  /** A fresh lua_State with the sandbox built and the engine API table referenced. */
  newSandbox(): Sandbox {
    const lua = this.lua;
    // No run's deadline applies to building a sandbox.
    this.current = null;
    const ud = this.nextUd++;
    const stats: MemoryStats = { used: 0, max: Number.POSITIVE_INFINITY };
    this.statsByUd.set(ud, stats);
    const L = lua.lua_newstate(this.allocPtr, ud);
    if (!L) throw new Error("lua_newstate failed (out of memory)");
    lua.luaL_openlibs(L);
    lua.lua_sethook(L, this.hookPtr, MASK_COUNT, HOOK_EVERY);
    this.loadChunk(L, this.bootstrap, "=(engine)");
    lua.lua_createtable(L, 0, this.prims.length);
    for (const [name, ptr] of this.prims) {
      lua.lua_pushcclosure(L, ptr, 0);
      lua.lua_setfield(L, -2, name);
    }
    this.pcall(L, 1, 1, "engine bootstrap");
    lua.lua_getfield(L, -1, "FATAL");
    const fatalRef = lua.luaL_ref(L, LUA_REGISTRYINDEX);
    // Every state's FATAL is a distinct table; the hook raises the current state's one.
    const apiRef = lua.luaL_ref(L, LUA_REGISTRYINDEX);
    return { L, ud, stats, apiRef, fatalRef };
  }

  /**
   * Runs the hook on `co` every `every` instructions instead of HOOK_EVERY: a profiled run's
   * phase coroutine, whose sample rate the coroutines it creates inherit (lua_newthread copies it).
   */
  sampleEvery(co: number, every: number): void {
    this.lua.lua_sethook(co, this.hookPtr, MASK_COUNT, every);
  }

  /** A debugged run's thread: the count hook always, line events too while `lines` (breakpoints, stepping). */
  debugHook(L: number, lines: boolean, every: number = HOOK_EVERY): void {
    this.lua.lua_sethook(L, this.hookPtr, MASK_COUNT | (lines ? MASK_LINE : 0), every);
  }

  /** Makes a sandbox the one the hook and C functions serve. */
  activate(sb: Sandbox, prims: RunPrims): void {
    this.fatalRef = sb.fatalRef;
    this.current = prims;
  }

  deactivate(): void {
    this.current = null;
  }

  close(sb: Sandbox): void {
    this.lua.lua_close(sb.L);
    this.statsByUd.delete(sb.ud);
  }

  /** Pushes the engine API function `name` onto L's stack. */
  pushApi(L: number, sb: Sandbox, name: string): void {
    this.lua.lua_rawgeti(L, LUA_REGISTRYINDEX, BigInt(sb.apiRef));
    this.lua.lua_getfield(L, -1, name);
    this.lua.lua_rotate(L, -2, 1);
    this.lua.lua_settop(L, -2);
  }

  /** Calls API function `name` with args pushed by `pushArgs`; leaves nres results on the stack. */
  callApi(sb: Sandbox, name: string, pushArgs: () => number, nres: number): void {
    this.pushApi(sb.L, sb, name);
    const n = pushArgs();
    this.pcall(sb.L, n, nres, `engine.${name}`);
  }

  /**
   * Compiles source in the sandbox env; returns a registry ref to the function, or the syntax problem.
   *
   * @remarks Every run is a fresh sandbox, so a trigger's script and the runtime's prelude (8 KB)
   * were parsed again on every run: the biggest part of a run's start in the worker. A source
   * that compiled once is kept as its bytecode (string.dump, debug info kept: the same chunk
   * name, lines and tracebacks) and loaded from it, several times faster than parsing. A source
   * that does not compile takes the parse path every time, so its problem is reported as before.
   */
  compile(sb: Sandbox, source: string, chunkName: string): { ref: number } | { problem: SyntaxProblem } {
    const bytecode = this.bytecodeOf(source, chunkName);
    if (bytecode !== null) {
      const lua = this.lua;
      this.callApi(sb, "load_compiled", () => (this.pushBytes(sb.L, bytecode), 1), 2);
      if (lua.lua_type(sb.L, -2) === 6) {
        lua.lua_settop(sb.L, -2);
        return { ref: lua.luaL_ref(sb.L, LUA_REGISTRYINDEX) };
      }
      lua.lua_settop(sb.L, -3);
    }
    return this.compileText(sb, source, chunkName);
  }

  private compileText(sb: Sandbox, source: string, chunkName: string): { ref: number } | { problem: SyntaxProblem } {
    const lua = this.lua;
    this.callApi(sb, "compile", () => {
      this.values.pushString(sb.L, source);
      this.values.pushString(sb.L, chunkName);
      return 2;
    }, 2);
    if (lua.lua_type(sb.L, -2) !== 6) {
      const msg = this.values.readString(sb.L, -1);
      lua.lua_settop(sb.L, -3);
      return { problem: parseSyntaxError(msg, chunkName, source, (src) => this.compileMessage(src, chunkName)) };
    }
    lua.lua_settop(sb.L, -2);
    return { ref: lua.luaL_ref(sb.L, LUA_REGISTRYINDEX) };
  }

  /**
   * The bytecode of a source that compiles (null: it does not), dumped in a throwaway plain state
   * once per source and chunk name and kept for the worker's life (at most BYTECODE_KEPT sources).
   */
  private bytecodeOf(source: string, chunkName: string): Uint8Array | null {
    const key = `${chunkName}\u0000${source}`;
    const hit = this.bytecode.get(key);
    if (hit !== undefined) return hit;
    const lua = this.lua;
    const L = lua.luaL_newstate();
    let out: Uint8Array | null = null;
    try {
      lua.luaL_openlibs(L);
      if (this.load(L, source, "=" + chunkName) === LUA_OK) {
        lua.lua_getglobal(L, "string");
        lua.lua_getfield(L, -1, "dump");
        lua.lua_pushvalue(L, -3);
        if (lua.lua_pcallk(L, 1, 1, 0, 0, null) === LUA_OK) out = this.values.readBytes(L, -1);
      }
    } finally {
      lua.lua_close(L);
    }
    if (out === null) return null;
    if (this.bytecode.size >= BYTECODE_KEPT) this.bytecode.clear();
    this.bytecode.set(key, out);
    return out;
  }

  private pushBytes(L: number, bytes: Uint8Array): void {
    const mod = this.lua.module as unknown as { _malloc(n: number): number; _free(p: number): void; HEAPU8: Uint8Array; _lua_pushlstring(L: number, p: number, n: number): number };
    const ptr = mod._malloc(bytes.length || 1);
    try {
      mod.HEAPU8.set(bytes, ptr);
      mod._lua_pushlstring(L, ptr, bytes.length);
    } finally {
      mod._free(ptr);
    }
  }

  /** Syntax check in a throwaway plain state: nothing runs. */
  checkSyntax(source: string, chunkName: string): SyntaxProblem | null {
    const msg = this.compileMessage(source, chunkName);
    return msg === null ? null : parseSyntaxError(msg, chunkName, source, (src) => this.compileMessage(src, chunkName));
  }

  /** Lua's compile error message for source, or null when it compiles. */
  private compileMessage(source: string, chunkName: string): string | null {
    const lua = this.lua;
    const L = lua.luaL_newstate();
    try {
      return this.load(L, source, "=" + chunkName) === LUA_OK ? null : this.values.readString(L, -1);
    } finally {
      lua.lua_close(L);
    }
  }

  /**
   * Resumes a coroutine. Returns "yield" with the awaited future id (or null for a bare yield),
   * or "done" with the phase table it returned, or "error" with Lua's message (e.g. out of memory
   * outside any handler).
   */
  resume(from: number, co: number, nargs: number): { kind: "yield"; id: number | null } | { kind: "done"; table: PhaseTable } | { kind: "error"; message: string } {
    const lua = this.lua;
    const mod = lua.module as unknown as { getValue(p: number, t: string): number; setValue(p: number, v: number, t: string): void };
    mod.setValue(this.nresPtr, 0, "i32");
    const status = lua.lua_resume(co, from, nargs, this.nresPtr);
    const n = mod.getValue(this.nresPtr, "i32");
    if (status === LUA_YIELD) {
      const id = n >= 2 && lua.lua_type(co, -1) === T_NUMBER ? Number(lua.lua_tointegerx(co, -1, null)) : null;
      if (n > 0) lua.lua_settop(co, -n - 1);
      return { kind: "yield", id };
    }
    if (status === LUA_OK) {
      const table = this.values.read(co, -1) as unknown as PhaseTable;
      lua.lua_settop(co, 0);
      return { kind: "done", table };
    }
    const message = lua.lua_type(co, -1) === T_STRING ? this.values.readString(co, -1) : `Lua error status ${status}`;
    return { kind: "error", message };
  }

  private load(L: number, source: string, chunkName: string): number {
    const lua = this.lua;
    const mod = lua.module as unknown as { _malloc(n: number): number; _free(p: number): void; HEAPU8: Uint8Array };
    const bytes = new TextEncoder().encode(source);
    const ptr = mod._malloc(bytes.length || 1);
    try {
      mod.HEAPU8.set(bytes, ptr);
      return lua.luaL_loadbufferx(L, ptr, bytes.length, chunkName, "t");
    } finally {
      mod._free(ptr);
    }
  }

  private loadChunk(L: number, source: string, chunkName: string): void {
    if (this.load(L, source, chunkName) !== LUA_OK) {
      throw new Error(`${chunkName}: ${this.values.readString(L, -1)}`);
    }
  }

  private pcall(L: number, nargs: number, nres: number, what: string): void {
    const status = this.lua.lua_pcallk(L, nargs, nres, 0, 0, null);
    if (status !== LUA_OK) {
      const msg = this.lua.lua_type(L, -1) === T_STRING ? this.values.readString(L, -1) : "non-string error";
      this.lua.lua_settop(L, -2);
      throw new Error(`${what} failed: ${msg}`);
    }
  }
}
