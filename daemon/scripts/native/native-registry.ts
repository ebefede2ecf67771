/**
 * Native capabilities: TypeScript functions a script reaches as a global `<name>` when its
 * capabilities include `native.<name>` (gated, and checked again on every call, like every
 * other capability). The daemon registers them once; each run asks for its own bindings.
 */
import { ConfigError } from "../../crdt/vocabulary.ts";
import type { HostBinding } from "../engine/index.ts";
import type { CapabilitySet } from "../capabilities/index.ts";
import type { ShowFiles } from "../fs/index.ts";

/** What a native capability's functions get to work with for one run. */
export interface NativeContext {
  /** File access checked against the run's fs.* capabilities, recorded for replay. */
  files: ShowFiles;
  capabilities: () => CapabilitySet;
  script?: string;
}

export interface NativeCapability {
  /** The global's name and the capability `native.<name>`: lower case, digits, `_`. */
  name: string;
  /** Functions keyed by their path under the global: `{ parse: ..., write: ... }` → `lightwright.parse`. */
  bindings: (ctx: NativeContext) => Record<string, HostBinding>;
  /** Lua run before the script when granted, with the engine table as `...` (wrapped in a do-block). */
  prelude?: string;
}

export interface NativeRunParts {
  bindings: Record<string, HostBinding>;
  preludeLua: string;
}

export interface NativeRegistry {
  registerNativeCapability(cap: NativeCapability): void;
  names(): string[];
  /** Bindings and prelude of every native capability this run is granted. */
  forRun(ctx: NativeContext): NativeRunParts;
}

const NAME = /^[a-z][a-z0-9_]*$/;
/** Globals a native capability may not take over. */
const RESERVED = new Set([
  "core", "json", "log", "context", "args", "require", "fs", "osc", "midi", "http", "ui",
  "string", "table", "math", "utf8", "coroutine", "print", "load", "pcall", "error", "main", "on_shutdown",
]);

export function createNativeRegistry(initial: readonly NativeCapability[] = []): NativeRegistry {
  const caps = new Map<string, NativeCapability>();
  const registry: NativeRegistry = {
    registerNativeCapability(cap) {
      if (!NAME.test(cap.name)) throw new ConfigError(`native capability "${cap.name}": the name must be lower case letters, digits and "_", starting with a letter`, { name: cap.name });
      if (RESERVED.has(cap.name)) throw new ConfigError(`native capability "${cap.name}": "${cap.name}" is a built-in global`, { name: cap.name });
      if (caps.has(cap.name)) throw new ConfigError(`native capability "${cap.name}" is already registered`, { name: cap.name });
      caps.set(cap.name, cap);
    },
    names: () => [...caps.keys()].sort(),
    forRun(ctx) {
      const bindings: Record<string, HostBinding> = {};
      const preludes: string[] = [];
      for (const cap of caps.values()) {
        if (!ctx.capabilities().has(`native.${cap.name}`)) continue;
        for (const [key, b] of Object.entries(cap.bindings(ctx))) bindings[`${cap.name}.${key}`] = gated(b, cap.name, ctx);
        if (cap.prelude) preludes.push(`do\n${cap.prelude}\nend\n`);
      }
      return { bindings, preludeLua: preludes.join("") };
    },
  };
  for (const c of initial) registry.registerNativeCapability(c);
  return registry;
}

/** The binding, refusing with PermissionDenied once `native.<name>` is revoked. */
function gated(b: HostBinding, name: string, ctx: NativeContext): HostBinding {
  const check = (): void => {
    const c = ctx.capabilities();
    if (!c.has(`native.${name}`)) throw c.denied({ kind: "native", name }, ctx.script);
  };
  switch (b.kind) {
    case "sync":
      return { ...b, fn: (args, run) => (check(), b.fn(args, run)) };
    case "async":
      return { ...b, fn: async (args, run) => (check(), b.fn(args, run)) };
    case "event":
      return { ...b, fn: (args, run) => (check(), b.fn(args, run)) };
  }
}
