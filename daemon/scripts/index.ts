/** Scripts: the Lua engine and the script runtime built on it. */
export * from "./engine/index.ts";
export * from "./runtime/index.ts";
