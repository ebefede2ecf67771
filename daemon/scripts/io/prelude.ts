/**
 * The Lua side of the show I/O modules (prelude.lua): objects with methods over the raw
 * handle bindings. The runtime runs it before the script, after the bindings are installed;
 * it is a self-contained do-block, so it can be appended to another prelude.
 */
import { readFileSync } from "node:fs";

export const ioPreludeLua: string = readFileSync(new URL("./prelude.lua", import.meta.url), "utf8");
