/** The values that cross between Lua and the host. */

/** A host→Lua number that must stay a Lua float even when integral (2.0, not 2). */
export class LuaFloat {
  constructor(readonly value: number) {}
}

/** Plain data crossing between Lua and the host. Lua arrays ↔ arrays, string-keyed tables ↔ objects. */
export type HostValue = null | boolean | number | string | HostValue[] | { [k: string]: HostValue } | LuaFloat;
