/**
 * Spies on what the show's scripts call (script.spy("core.set_field"), script.stub(name, v)):
 * every run of the test gets a few lines of Lua after its preludes that wrap the named
 * functions, reporting each call to the test and, for a stub, returning the test's value
 * instead of calling the real one. The engine wrapper is the only seam: runtime untouched.
 */
import { InvalidOperation } from "../../crdt/index.ts";
import type { HostValue, LuaEngine, RunRequest } from "../../scripts/engine/index.ts";

const CALL_BINDING = "__spy.call";
const PATH = /^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)+$/;

interface Spied {
  stub: boolean;
  value: HostValue;
  calls: HostValue[][];
}

// The wrapper: `spied` maps path → { stub, value }; calls go out through the event binding.
// A function that does not exist when the run starts (a module the run lacks) is left alone.
const WRAP_LUA = `
do
  local call, spied = __spy.call, __spy_list
  __spy, __spy_list = nil, nil
  local pack, unpack = table.pack, table.unpack
  for _, s in ipairs(spied) do
    local t = _G
    local parts = {}
    for p in s.path:gmatch("[^.]+") do parts[#parts + 1] = p end
    for i = 1, #parts - 1 do t = type(t) == "table" and t[parts[i]] or nil end
    local key = parts[#parts]
    local original = type(t) == "table" and t[key] or nil
    if type(original) == "function" then
      t[key] = function(...)
        local args = pack(...)
        -- A method called with ':' passes its object first: tables are sent as their fields.
        call(s.path, args)
        if s.stub then return s.value end
        return original(...)
      end
    end
  end
end`;

export class ScriptSpies {
  private readonly spied = new Map<string, Spied>();

  on(path: string, stub: boolean, value: HostValue): void {
    if (!PATH.test(path)) throw new InvalidOperation(`script.spy: "${path}" is not a function path like "core.set_field"`, { path });
    const s = this.spied.get(path);
    if (s) Object.assign(s, { stub, value });
    else this.spied.set(path, { stub, value, calls: [] });
  }

  calls(path: string): HostValue[][] {
    return this.spied.get(path)?.calls ?? [];
  }

  /** The request with the wrapper added, when something is spied on. */
  patch(req: RunRequest): RunRequest {
    if (this.spied.size === 0) return req;
    const list: HostValue = [...this.spied].map(([path, s]) => ({ path, stub: s.stub, value: s.value }));
    return {
      ...req,
      globals: { ...req.globals, __spy_list: list },
      bindings: {
        ...req.bindings,
        [CALL_BINDING]: {
          kind: "event",
          fn: ([path, args]) => void this.spied.get(String(path))?.calls.push(argList(args ?? null)),
        },
      },
      preludeLua: `${req.preludeLua ?? ""}\n${WRAP_LUA}`,
    };
  }

  /** `engine` with every run patched. */
  engine(engine: LuaEngine): LuaEngine {
    return {
      checkSyntax: (source, chunk) => engine.checkSyntax(source, chunk),
      run: (req) => engine.run(this.patch(req)),
      close: () => engine.close(),
    };
  }
}

/** table.pack's result as a list: nils kept as null up to n. */
function argList(v: HostValue): HostValue[] {
  if (Array.isArray(v)) return v;
  if (v === null || typeof v !== "object" || !("n" in v)) return [];
  const rec = v as { [k: string]: HostValue };
  const n = typeof rec.n === "number" ? rec.n : 0;
  return Array.from({ length: n }, (_, i) => rec[String(i + 1)] ?? null);
}
