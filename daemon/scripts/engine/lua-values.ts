/**
 * Moving HostValues on and off a Lua stack through wasmoon's raw C API (worker side).
 * Strings go through the wasm heap as bytes so embedded NULs and large texts survive.
 */
import { LuaFloat } from "./types.ts";
import type { HostValue } from "./types.ts";
import type { LuaWasm } from "wasmoon";

export const LUA_REGISTRYINDEX = -1001000;
export const T_NONE = -1, T_NIL = 0, T_BOOLEAN = 1, T_NUMBER = 3, T_STRING = 4, T_TABLE = 5;

/** The emscripten exports we use beyond wasmoon's typed wrappers. */
interface RawModule {
  HEAPU8: Uint8Array;
  _malloc(size: number): number;
  _free(ptr: number): void;
  _lua_tolstring(L: number, idx: number, lenPtr: number): number;
  _lua_pushlstring(L: number, ptr: number, len: number): number;
  getValue(ptr: number, type: string): number;
}

const MAX_DEPTH = 100;
const encoder = new TextEncoder();
const decoder = new TextDecoder("utf-8");

export class LuaValues {
  private readonly raw: RawModule;
  private readonly lenPtr: number;

  constructor(private readonly lua: LuaWasm) {
    this.raw = lua.module as unknown as RawModule;
    this.lenPtr = this.raw._malloc(8);
  }

  readString(L: number, idx: number): string {
    const ptr = this.raw._lua_tolstring(L, idx, this.lenPtr);
    if (ptr === 0) return "";
    const len = this.raw.getValue(this.lenPtr, "i32");
    return decoder.decode(this.raw.HEAPU8.subarray(ptr, ptr + len));
  }

  /** The bytes of the string at idx, copied out of the wasm heap (binary: bytecode). */
  readBytes(L: number, idx: number): Uint8Array {
    const ptr = this.raw._lua_tolstring(L, idx, this.lenPtr);
    if (ptr === 0) return new Uint8Array(0);
    const len = this.raw.getValue(this.lenPtr, "i32");
    return this.raw.HEAPU8.slice(ptr, ptr + len);
  }

  pushString(L: number, s: string): void {
    if (s.length < 200 && !s.includes("\0")) {
      this.lua.lua_pushstring(L, s);
      return;
    }
    const bytes = encoder.encode(s);
    const ptr = this.raw._malloc(bytes.length || 1);
    try {
      this.raw.HEAPU8.set(bytes, ptr);
      this.raw._lua_pushlstring(L, ptr, bytes.length);
    } finally {
      this.raw._free(ptr);
    }
  }

  /** Reads the value at idx. Throws a TypeError naming what cannot cross (functions, userdata, cycles). */
  read(L: number, idx: number, depth = 0): HostValue {
    const lua = this.lua;
    const type = lua.lua_type(L, idx);
    switch (type) {
      case T_NONE:
      case T_NIL:
        return null;
      case T_BOOLEAN:
        return lua.lua_toboolean(L, idx) !== 0;
      case T_NUMBER:
        return lua.lua_isinteger(L, idx) !== 0 ? Number(lua.lua_tointegerx(L, idx, null)) : lua.lua_tonumberx(L, idx, null);
      case T_STRING:
        return this.readString(L, idx);
      case T_TABLE:
        return this.readTable(L, lua.lua_absindex(L, idx), depth);
      default:
        throw new TypeError(`a ${lua.lua_typename(L, type)} value cannot be sent to the host`);
    }
  }

  private readTable(L: number, idx: number, depth: number): HostValue {
    if (depth >= MAX_DEPTH) throw new TypeError(`a table nested deeper than ${MAX_DEPTH} levels (a cycle?) cannot be sent to the host`);
    const lua = this.lua;
    if (!lua.lua_checkstack(L, 4)) throw new TypeError("Lua stack exhausted while reading a table");
    const entries: [string | number, HostValue][] = [];
    let allIntegerKeys = true;
    lua.lua_pushnil(L);
    while (lua.lua_next(L, idx) !== 0) {
      const kt = lua.lua_type(L, -2);
      let key: string | number;
      if (kt === T_STRING) {
        key = this.readString(L, -2);
        allIntegerKeys = false;
      } else if (kt === T_NUMBER) {
        key = lua.lua_isinteger(L, -2) !== 0 ? Number(lua.lua_tointegerx(L, -2, null)) : lua.lua_tonumberx(L, -2, null);
        if (!Number.isInteger(key)) allIntegerKeys = false;
      } else {
        lua.lua_settop(L, -3);
        throw new TypeError(`a table with a ${lua.lua_typename(L, kt)} key cannot be sent to the host`);
      }
      let value: HostValue;
      try {
        value = this.read(L, -1, depth + 1);
      } catch (e) {
        lua.lua_settop(L, -3);
        throw e;
      }
      entries.push([key, value]);
      lua.lua_settop(L, -2);
    }
    if (entries.length > 0 && allIntegerKeys) {
      const arr: HostValue[] = new Array<HostValue>(entries.length).fill(null);
      let isArray = true;
      for (const [k, v] of entries) {
        const i = (k as number) - 1;
        if (i < 0 || i >= entries.length) {
          isArray = false;
          break;
        }
        arr[i] = v;
      }
      if (isArray) return arr;
    }
    const obj: { [k: string]: HostValue } = {};
    for (const [k, v] of entries) obj[String(k)] = v;
    return obj;
  }

  push(L: number, v: HostValue, depth = 0): void {
    const lua = this.lua;
    if (v === null || v === undefined) {
      lua.lua_pushnil(L);
    } else if (typeof v === "boolean") {
      lua.lua_pushboolean(L, v ? 1 : 0);
    } else if (typeof v === "number") {
      if (Number.isSafeInteger(v)) lua.lua_pushinteger(L, BigInt(v));
      else lua.lua_pushnumber(L, v);
    } else if (typeof v === "string") {
      this.pushString(L, v);
    } else if (v instanceof LuaFloat) {
      lua.lua_pushnumber(L, v.value);
    } else {
      if (depth >= MAX_DEPTH) throw new TypeError(`a value nested deeper than ${MAX_DEPTH} levels cannot be sent to Lua`);
      if (!lua.lua_checkstack(L, 3)) throw new TypeError("Lua stack exhausted while building a table");
      if (Array.isArray(v)) {
        lua.lua_createtable(L, v.length, 0);
        for (let i = 0; i < v.length; i++) {
          this.push(L, v[i], depth + 1);
          lua.lua_rawseti(L, -2, BigInt(i + 1));
        }
      } else {
        const keys = Object.keys(v);
        lua.lua_createtable(L, 0, keys.length);
        for (const k of keys) {
          this.pushString(L, k);
          this.push(L, v[k], depth + 1);
          lua.lua_rawset(L, -3);
        }
      }
    }
  }
}
