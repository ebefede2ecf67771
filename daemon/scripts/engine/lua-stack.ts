/**
 * Reads a Lua call stack through the debug API (lua_getstack / lua_getinfo) without the
 * debug library: one lua_Debug record allocated once per VM, read field by field from wasm
 * memory. The profiler walks stacks with it at every sample (worker side).
 */
import type { LuaWasm } from "wasmoon";

/**
 * Offsets in Lua 5.4's `struct lua_Debug` on wasm32 (4-byte pointers and size_t):
 * event, name, namewhat, what, source, srclen, currentline, linedefined, lastlinedefined,
 * nups/nparams/isvararg/istailcall, ftransfer/ntransfer, short_src[60], i_ci.
 */
const AR_NAME = 4;
const AR_WHAT = 12;
const AR_SOURCE = 16;
const AR_CURRENTLINE = 24;
const AR_LINEDEFINED = 28;
const AR_SHORT_SRC = 44;
const LUA_IDSIZE = 60;
const AR_BYTES = 128;

interface RawModule {
  _malloc(n: number): number;
  _lua_getstack(L: number, level: number, ar: number): number;
  _lua_getinfo(L: number, what: number, ar: number): number;
  HEAPU8: Uint8Array;
  HEAP32: Int32Array;
}

const decoder = new TextDecoder("utf-8");

export class LuaStack {
  private readonly mod: RawModule;
  private readonly ar: number;
  private readonly whatSl: number;
  private readonly whatN: number;
  private readonly whatS: number;
  private readonly sources = new Map<number, string>();

  constructor(lua: LuaWasm) {
    this.mod = lua.module as unknown as RawModule;
    this.ar = this.mod._malloc(AR_BYTES);
    this.whatSl = this.cString("Sl");
    this.whatN = this.cString("n");
    this.whatS = this.cString("S");
  }

  /** Selects the function running at `level` of L (0: the current one); false past the stack's end. */
  at(L: number, level: number): boolean {
    if (this.mod._lua_getstack(L, level, this.ar) === 0) return false;
    this.mod._lua_getinfo(L, this.whatSl, this.ar);
    return true;
  }

  /** The selected function's source string, as a pointer: stable while its chunk is loaded. */
  get sourcePtr(): number {
    return this.i32(AR_SOURCE);
  }

  /** "Lua", "C" or "main", as a pointer to a static C string (equal pointers: equal kinds). */
  get whatPtr(): number {
    return this.i32(AR_WHAT);
  }

  get lineDefined(): number {
    return this.i32(AR_LINEDEFINED);
  }

  get currentLine(): number {
    return this.i32(AR_CURRENTLINE);
  }

  get what(): string {
    return this.str(this.whatPtr);
  }

  /** The chunk's printable name ("hot.lua", "[C]"). */
  get shortSrc(): string {
    const heap = this.mod.HEAPU8;
    const start = this.ar + AR_SHORT_SRC;
    let end = heap.indexOf(0, start);
    if (end < 0 || end > start + LUA_IDSIZE) end = start + LUA_IDSIZE;
    return decoder.decode(heap.subarray(start, end));
  }

  /** The name the caller used for the selected function (global, local, method, field), or null. */
  name(L: number): string | null {
    this.mod._lua_getinfo(L, this.whatN, this.ar);
    const p = this.i32(AR_NAME);
    return p === 0 ? null : this.str(p);
  }

  // ---- For the debugger's hook: the lua_Debug the hook was given, not this class's own. ----

  /** The hook's event (LUA_HOOKLINE = 2, LUA_HOOKCOUNT = 3). */
  hookEvent(ar: number): number {
    return this.mod.HEAP32[ar >> 2];
  }

  /** The line a line event is about to run. */
  hookLine(ar: number): number {
    return this.mod.HEAP32[(ar + AR_CURRENTLINE) >> 2];
  }

  /** The source string ("=chunk", "@path") of the function a hook call is in; cached by pointer. */
  hookSource(L: number, ar: number): string {
    this.mod._lua_getinfo(L, this.whatS, ar);
    const p = this.mod.HEAP32[(ar + AR_SOURCE) >> 2];
    let s = this.sources.get(p);
    if (s === undefined) this.sources.set(p, (s = this.str(p)));
    return s;
  }

  /** Source strings may be freed once the run goes on: a pointer could name another one later. */
  forgetSources(): void {
    this.sources.clear();
  }

  /** How many frames L's stack holds (Lua and C): equal depths, same call level. */
  depth(L: number): number {
    let n = 0;
    while (this.mod._lua_getstack(L, n, this.ar) !== 0) n++;
    return n;
  }

  private i32(offset: number): number {
    return this.mod.HEAP32[(this.ar + offset) >> 2];
  }

  private str(ptr: number): string {
    const heap = this.mod.HEAPU8;
    const end = heap.indexOf(0, ptr);
    return decoder.decode(heap.subarray(ptr, end < 0 ? ptr : end));
  }

  private cString(s: string): number {
    const bytes = new TextEncoder().encode(s + "\0");
    const p = this.mod._malloc(bytes.length);
    this.mod.HEAPU8.set(bytes, p);
    return p;
  }
}
