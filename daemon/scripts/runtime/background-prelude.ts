/**
 * Lua appended to the runtime prelude so the main thread learns when on_shutdown() starts
 * (the engine reports phases only at the end of a run). It wraps the script's on_shutdown at
 * definition: the wrapper first makes a core call, which sends main's queued writes ahead of
 * the marker, then fires the marker event, then runs the script's function.
 */

/** Binding the marker is fired on; removed from `core` before the script runs. */
export const PHASE_BINDING = "core.__phase";

export const backgroundPreludeLua = `
do
  local phase = core.__phase
  core.__phase = nil
  local hlc_time = context.hlc_time
  local rawset, type = rawset, type
  -- Not protected: a script may set its own _G metatable (strict mode); it then loses only
  -- the marker, and on_shutdown's writes join main's.
  setmetatable(_G, {
    __newindex = function(t, k, v)
      if k == "on_shutdown" and type(v) == "function" then
        local user = v
        v = function(...)
          hlc_time()
          phase("shutdown")
          return user(...)
        end
      end
      rawset(t, k, v)
    end,
  })
end
`;
