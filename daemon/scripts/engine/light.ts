/** The engine's light face: the values that cross between Lua and the host, for code that runs inside a worker beside the engine. */
export { LuaFloat } from "./host-value.ts";
export type { HostValue } from "./host-value.ts";
