-- Engine bootstrap: runs once per lua_State in the real _G, before any script code.
-- It builds the sandbox environment the script sees and returns the engine's API table.
-- Everything the sandbox relies on is captured in locals here, so a script that rewrites
-- string/table functions in its own environment cannot change how the engine behaves.
local prim = ...

local _G = _G
local assert, error, ipairs, next, pairs, pcall, xpcall, select = assert, error, ipairs, next, pairs, pcall, xpcall, select
local tonumber, tostring, type, rawequal, rawget, rawset, rawlen = tonumber, tostring, type, rawequal, rawget, rawset, rawlen
local setmetatable, getmetatable, load, collectgarbage = setmetatable, getmetatable, load, collectgarbage
local co_create, co_resume, co_yield, co_status = coroutine.create, coroutine.resume, coroutine.yield, coroutine.status
local co_running, co_isyieldable, co_close = coroutine.running, coroutine.isyieldable, coroutine.close
local traceback, getinfo = debug.traceback, debug.getinfo
-- Kept for the debugger alone (api.load_debugger): scripts never reach it.
local debug_lib = debug
local pack, unpack, concat = table.pack, table.unpack, table.concat
local randomseed = math.randomseed

local host_call, host_async, host_emit, poll = prim.call, prim.async, prim.emit, prim.poll
local is_fatal, await_cancels, cancelled = prim.is_fatal, prim.await_cancels, prim.cancelled
local sleep_prim, race_prim, resolved_prim, unhandled_prim = prim.sleep, prim.race, prim.resolved, prim.unhandled
local first_line = prim.first_line
local debug_break = prim.debug_break

local ENGINE_SOURCE = "=(engine)"

-- The value the instruction hook raises to stop a run. Wrapped pcall/xpcall/resume re-raise it.
local FATAL = setmetatable({}, { __metatable = false, __tostring = function() return "run stopped" end })
-- First value of a yield that asks the engine (or an enclosing coroutine) to wait for a future.
local AWAIT = {}

-- Typed errors -----------------------------------------------------------------------------
local error_values = setmetatable({}, { __mode = "k" })
local ERROR_MT = {
  __metatable = "OpenprodError",
  __tostring = function(e) return tostring(rawget(e, "type")) .. ": " .. tostring(rawget(e, "message")) end,
}
local function make_error(kind, message, details)
  local e = setmetatable({ type = tostring(kind), message = tostring(message), details = details or {} }, ERROR_MT)
  error_values[e] = true
  return e
end
local function is_error(v) return error_values[v] == true end
local function raise(kind, message, details) error(make_error(kind, message, details), 0) end

-- Protected-call depth per coroutine, and who resumed each coroutine -----------------------
local pdepth = setmetatable({}, { __mode = "k" })
-- coroutine -> true when resumed by coroutine.resume (errors stop there), or the coroutine
-- that resumed it through coroutine.wrap (errors travel on to it)
local resumer = setmetatable({}, { __mode = "k" })
local run_cos = setmetatable({}, { __mode = "k" })

local function in_protected()
  local co = co_running()
  local hops = 0
  while co ~= nil and hops < 1000 do
    if (pdepth[co] or 0) > 0 then return true end
    local r = resumer[co]
    if r == true then return true end
    co = r
    hops = hops + 1
  end
  return false
end

local function stopping(ok, e)
  return not ok and (rawequal(e, FATAL) or is_fatal())
end

local function leave_protected(co, ok, ...)
  pdepth[co] = (pdepth[co] or 1) - 1
  if stopping(ok, (...)) then error(FATAL, 0) end
  return ok, ...
end
local function sb_pcall(f, ...)
  local co = co_running()
  pdepth[co] = (pdepth[co] or 0) + 1
  return leave_protected(co, pcall(f, ...))
end
local function sb_xpcall(f, handler, ...)
  local co = co_running()
  pdepth[co] = (pdepth[co] or 0) + 1
  return leave_protected(co, xpcall(f, handler, ...))
end

-- Coroutines: an await inside a script's own coroutine travels up to the engine ------------
local function resume_through(co, ...)
  local r = pack(co_resume(co, ...))
  while r[1] and rawequal(r[2], AWAIT) and co_status(co) == "suspended" do
    r = pack(co_resume(co, co_yield(AWAIT, r[3])))
  end
  return r
end
local function sb_resume(co, ...)
  resumer[co] = true
  local r = resume_through(co, ...)
  if stopping(r[1], r[2]) then error(FATAL, 0) end
  return unpack(r, 1, r.n)
end
local function sb_wrap(f)
  local co = co_create(f)
  return function(...)
    resumer[co] = co_running()
    local r = resume_through(co, ...)
    if r[1] then return unpack(r, 2, r.n) end
    if stopping(false, r[2]) then error(FATAL, 0) end
    error(r[2], 0)
  end
end
local function sb_yield(...)
  if run_cos[co_running()] then error("attempt to yield from outside a coroutine", 2) end
  return co_yield(...)
end
local function sb_close(co)
  local r = pack(co_close(co))
  if stopping(r[1], r[2]) then error(FATAL, 0) end
  return unpack(r, 1, r.n)
end

-- Futures ----------------------------------------------------------------------------------
local future_ids = setmetatable({}, { __mode = "k" })
local future_info = setmetatable({}, { __mode = "k" })
local FUTURE_MT = { __metatable = "future", __tostring = function() return "future" end }
local function make_future(id, binding, guarded)
  local f = setmetatable({}, FUTURE_MT)
  future_ids[f] = id
  future_info[f] = { binding = binding, guarded = guarded }
  return f
end
local function is_future(v) return future_ids[v] ~= nil end

-- A host error reaches Lua: raise it, or (guarded, nobody catching) ask the host what to do.
local function host_failed(binding, guarded, err)
  if guarded and not in_protected() then
    local decision = unhandled_prim(binding, err)
    if decision == "skip" then return nil end
  end
  error(make_error(err.type, err.message, err.details), 0)
end

local function await(f)
  local id = future_ids[f]
  if id == nil then return f end
  if await_cancels() then return nil end
  local status, value = poll(id)
  if status == "pending" then
    if not co_isyieldable() then
      error("core.await cannot wait here (inside a metamethod or a callback called from C)", 2)
    end
    co_yield(AWAIT, id)
    status, value = poll(id)
  end
  if status == "ok" then return value end
  if status == "cancelled" then return nil end
  if status == "fatal" then error(FATAL, 0) end
  local info = future_info[f]
  return host_failed(info.binding, info.guarded, value)
end

local function sleep(ms)
  if type(ms) ~= "number" then error("core.sleep(ms): ms must be a number, got " .. type(ms), 2) end
  return make_future(sleep_prim(ms), "core.sleep", false)
end

local function race(...)
  local n = select("#", ...)
  if n == 0 then error("core.race needs at least one future", 2) end
  local ids = {}
  for i = 1, n do
    local v = select(i, ...)
    local id = future_ids[v]
    if id == nil then id = resolved_prim(v) end
    ids[i] = id
  end
  return make_future(race_prim(unpack(ids, 1, n)), "core.race", false)
end

-- The sandbox environment ------------------------------------------------------------------
local env = {}
for _, k in ipairs({ "assert", "error", "ipairs", "next", "pairs", "select", "tonumber", "tostring", "type",
  "rawequal", "rawget", "rawset", "rawlen", "getmetatable" }) do
  env[k] = _G[k]
end
env._G = env
env._VERSION = _G._VERSION
env.pcall = sb_pcall
env.xpcall = sb_xpcall

env.setmetatable = function(t, mt)
  if type(mt) == "table" and rawget(mt, "__gc") ~= nil then
    error("setmetatable: __gc metamethods are not available to scripts", 2)
  end
  return setmetatable(t, mt)
end

-- Lua 5.4's load(chunk, name, mode, env), except that binary chunks never load: what a binary
-- chunk or a mode without "t" gets is Lua's own answer for a chunk of the wrong kind (nil and a
-- message), never an error. Only text is ever handed to the real load.
env.load = function(chunk, name, mode, ...)
  local given_env = select("#", ...) > 0
  local chunk_env = ...
  if mode == nil then mode = "bt" end
  if type(mode) ~= "string" then error("bad argument #3 to 'load' (string expected, got " .. type(mode) .. ")", 2) end
  if type(chunk) == "string" and chunk:sub(1, 1) == "\27" then
    return nil, "attempt to load a binary chunk (mode is '" .. mode .. "')"
  end
  if not mode:find("t", 1, true) then
    return nil, "attempt to load a text chunk (mode is '" .. mode .. "')"
  end
  if given_env then return load(chunk, name, "t", chunk_env) end
  return load(chunk, name, "t", env)
end

env.collectgarbage = function(opt)
  if opt == "count" then return collectgarbage("count") end
  error("collectgarbage: only collectgarbage(\"count\") is available to scripts", 2)
end

local print_target = nil
env.print = function(...)
  local n = select("#", ...)
  local parts = {}
  for i = 1, n do parts[i] = tostring((select(i, ...))) end
  if print_target then host_emit(print_target, concat(parts, "\t")) end
end

string.dump = nil
getmetatable("").__metatable = false
local function copy(t)
  local c = {}
  for k, v in pairs(t) do c[k] = v end
  return c
end
env.string = string
env.table = copy(table)
env.math = copy(math)
env.utf8 = copy(utf8)
env.coroutine = {
  create = co_create, resume = sb_resume, wrap = sb_wrap, yield = sb_yield, status = co_status,
  running = co_running, isyieldable = co_isyieldable, close = sb_close,
}
env.core = { await = await, sleep = sleep, race = race }

-- Nothing outside the sandbox should keep handing out the dangerous libraries.
for _, k in ipairs({ "io", "os", "debug", "package", "require", "dofile", "loadfile", "load" }) do
  _G[k] = nil
end

-- Installing host functions at dotted paths -------------------------------------------------
local function callable_table(fn)
  return setmetatable({}, { __call = function(_, ...) return fn(...) end })
end
local function install(path, value)
  local node = env
  local parts = {}
  for part in path:gmatch("[^%.]+") do parts[#parts + 1] = part end
  for i = 1, #parts - 1 do
    local k = parts[i]
    local nxt = rawget(node, k)
    if nxt == nil then
      nxt = {}
      rawset(node, k, nxt)
    elseif type(nxt) == "function" then
      nxt = callable_table(nxt)
      rawset(node, k, nxt)
    elseif type(nxt) ~= "table" then
      error("cannot install " .. path .. ": " .. k .. " is a " .. type(nxt))
    end
    node = nxt
  end
  local last = parts[#parts]
  local existing = rawget(node, last)
  if type(existing) == "table" and type(value) == "function" then
    setmetatable(existing, { __call = function(_, ...) return value(...) end })
  else
    rawset(node, last, value)
  end
end

local function install_binding(path, name, kind, guarded)
  local fn
  if kind == "sync" then
    fn = function(...)
      local ok, v = host_call(name, ...)
      if ok then return v end
      return host_failed(name, guarded, v)
    end
  elseif kind == "async" then
    fn = function(...)
      local ok, v = host_async(name, ...)
      if ok then return make_future(v, name, guarded) end
      return host_failed(name, guarded, v)
    end
  else
    fn = function(...)
      local ok, v = host_emit(name, ...)
      if not ok then return host_failed(name, guarded, v) end
    end
  end
  install(path, fn)
end

-- Running phases ---------------------------------------------------------------------------
local last_failure = nil

local function describe(e)
  if type(e) == "string" then return e end
  if is_error(e) then return tostring(e.type) .. ": " .. tostring(e.message) end
  return "(error object is a " .. type(e) .. " value)"
end

local function locate(level)
  for l = level, level + 60 do
    local info = getinfo(l, "Sl")
    if info == nil then return nil, nil end
    if info.what ~= "C" and info.source ~= ENGINE_SOURCE and info.source ~= "=prelude" and info.currentline and info.currentline > 0 then
      return info.short_src, info.currentline
    end
  end
  return nil, nil
end

-- A debugged run's debugger sees every uncaught error where it was raised (api.load_debugger).
local error_hook = nil

local function on_error(e)
  if rawequal(e, FATAL) then return e end
  if error_hook then pcall(error_hook, e) end
  local ok, file, line = pcall(locate, 3)
  local tb_ok, tb = pcall(traceback, describe(e), 2)
  last_failure = { file = ok and file or nil, line = ok and line or nil, traceback = tb_ok and tb or nil }
  return e
end

-- Runs fn as one phase (main or shutdown) in the calling coroutine. Returns a plain result
-- table the engine reads: { status = "ok" } / { status = "fatal" } / { status = "error", ... }.
local function run_phase(fn)
  run_cos[co_running()] = true
  last_failure = nil
  local ok, e = xpcall(fn, on_error)
  if ok then return { status = "ok" } end
  if rawequal(e, FATAL) or is_fatal() then return { status = "fatal" } end
  local where = last_failure or {}
  local out = { status = "error", file = where.file, line = where.line, traceback = where.traceback }
  if is_error(e) then
    out.type, out.message, out.details = e.type, e.message, e.details
  elseif type(e) == "string" then
    out.type, out.message = "ScriptError", e
  else
    out.type, out.message = "ScriptError", describe(e)
  end
  return out
end

local engine_table = {
  error = make_error, raise = raise, is_error = is_error, cancelled = cancelled,
  is_future = is_future, await = await, in_protected = in_protected,
}

local api = {}
api.FATAL = FATAL
api.env = env
api.install_binding = install_binding
-- Many bindings in one call: "path\31name\31kind\31guarded(0|1)\30" each, in install order.
api.install_bindings = function(list)
  for path, name, kind, guarded in list:gmatch("([^\30\31]*)\31([^\30\31]*)\31([^\30\31]*)\31([01])\30") do
    install_binding(path, name, kind, guarded == "1")
  end
end
api.install_value = install
api.set_print_target = function(name) print_target = name end
api.seed = function(seed) randomseed(seed) end
api.compile = function(source, chunk_name)
  return load(source, "=" .. chunk_name, "t", env)
end
-- The same function from the bytecode the engine dumped from compiling that same source (see
-- LuaVm.compile): only the engine calls this, with bytes it made itself.
api.load_compiled = function(bytes)
  return load(bytes, nil, "b", env)
end
api.main_phase = function(prelude, chunk)
  return run_phase(function()
    if prelude then prelude(engine_table) end
    first_line()
    chunk()
    local main = rawget(env, "main")
    if type(main) == "function" then main() end
  end)
end
-- Loads the debugger's inspection chunk (debug-agent.lua) with the debug library; only the
-- engine calls this, for a run started under the debugger.
api.load_debugger = function(source, main_source)
  local chunk = assert(load(source, "=(debugger)", "t", setmetatable({}, { __index = _G })))
  local agent = chunk(debug_lib, env, debug_break, main_source, FATAL, is_error, load)
  error_hook = agent.uncaught
  return agent
end
api.has_shutdown = function() return type(rawget(env, "on_shutdown")) == "function" end
api.shutdown_phase = function()
  return run_phase(function() rawget(env, "on_shutdown")() end)
end
api.define_local = function(path, name, kind, guarded)
  install_binding(path, name, kind, guarded)
end
return api
