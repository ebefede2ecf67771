-- Debugger inspection, loaded only into a debugged run's lua_State (sandbox.lua's
-- api.load_debugger). It alone holds the real debug library, which scripts never see.
-- The engine calls these functions on the paused thread, directly from the hook or from
-- the break primitive: every frame's place is kept as its height above the stack's bottom,
-- which stays the same however deep the inspecting function itself runs.
local debug, env, brk, main_source, FATAL, is_error, load = ...

local getinfo, getlocal, setlocal = debug.getinfo, debug.getlocal, debug.setlocal
local getupvalue, setupvalue = debug.getupvalue, debug.setupvalue
local type, tostring, pairs, ipairs, next, rawget, rawset, rawequal = type, tostring, pairs, ipairs, next, rawget, rawset, rawequal
local pcall = pcall
local setmetatable, math_type, string_format = setmetatable, math.type, string.format
local co_running, co_status, sort, pack = coroutine.running, coroutine.status, table.sort, table.pack

local MAX_STRING = 200
local MAX_COUNT = 100000

local agent = {}

-- Threads -----------------------------------------------------------------------------------
local thread_ids = setmetatable({}, { __mode = "k" })
local threads = setmetatable({}, { __mode = "v" })
local thread_names = {}
local next_thread = 1

local function thread_id(co, name)
  local id = thread_ids[co]
  if id == nil then
    id = next_thread
    next_thread = next_thread + 1
    thread_ids[co] = id
    threads[id] = co
    thread_names[id] = name or ("coroutine " .. id)
  end
  return id
end

-- The script's coroutines get an id when created, so `threads` lists them before they run.
local sb_create = env.coroutine.create
env.coroutine.create = function(f)
  local co = sb_create(f)
  thread_id(co)
  return co
end

function agent.register_main(co)
  thread_id(co, "main")
end

function agent.current_thread()
  return thread_id(co_running())
end

function agent.threads()
  local out = {}
  for id = 1, next_thread - 1 do
    local co = threads[id]
    if co ~= nil and co_status(co) ~= "dead" then out[#out + 1] = { id = id, name = thread_names[id] } end
  end
  return out
end

-- The live threads themselves, for the engine to set their hooks.
function agent.thread_list()
  local out = {}
  for id = 1, next_thread - 1 do
    local co = threads[id]
    if co ~= nil and co_status(co) ~= "dead" then out[#out + 1] = co end
  end
  return out
end

-- Frames ------------------------------------------------------------------------------------
local function user_source(src)
  return src == main_source or src:sub(1, 1) == "@"
end

-- The number of levels above the caller of depth(): a frame at caller level k has height top - k.
local function depth()
  local n = 2
  while getinfo(n + 1, "l") do n = n + 1 end
  return n - 1
end

-- frame id -> { co = thread, h = height } (the paused thread) or { co = thread, level = n } (a
-- suspended one); ids and variable handles live until the run goes on.
local frames, stacks, handles, next_frame, next_ref = {}, {}, {}, 1, 1

function agent.reset()
  frames, stacks, handles, next_frame, next_ref = {}, {}, {}, 1, 1
end

local function new_handle(h)
  local ref = next_ref
  next_ref = next_ref + 1
  handles[ref] = h
  return ref
end

local function frame_name(info)
  if info.what == "main" then return "(main chunk)" end
  return info.name or ("function <" .. info.short_src .. ":" .. tostring(info.linedefined) .. ">")
end

local function add_frame(list, info, desc)
  local id = next_frame
  next_frame = next_frame + 1
  frames[id] = desc
  list[#list + 1] = { id = id, name = frame_name(info), source = info.source, line = info.currentline or 0 }
end

function agent.stack(tid)
  local cached = stacks[tid]
  if cached then return cached end
  local co = threads[tid]
  local list = {}
  if co == nil then return list end
  if co == co_running() then
    local top = depth()
    for k = 1, top do
      local info = getinfo(k, "Sln")
      if info and info.what ~= "C" and user_source(info.source) then add_frame(list, info, { co = co, h = top - k }) end
    end
  elseif co_status(co) ~= "dead" then
    for level = 0, 200 do
      local info = getinfo(co, level, "Sln")
      if info == nil then break end
      if info.what ~= "C" and user_source(info.source) then add_frame(list, info, { co = co, level = level }) end
    end
  end
  stacks[tid] = list
  return list
end

-- Runs fn(level) with the frame's level as seen from the function that calls the debug
-- library, plus the thread argument those functions take (nil: the running thread).
local function at_frame(f, fn)
  if f.level ~= nil then return fn(f.co, f.level) end
  -- +1: fn runs one level above at_frame (not a tail call, so at_frame's frame stays).
  local top = depth()
  local a, b, c = fn(nil, top - f.h + 1)
  return a, b, c
end

local function frame_locals(f)
  return at_frame(f, function(co, level)
    local names, values, index = {}, {}, {}
    for i = 1, 250 do
      local name, value
      if co then name, value = getlocal(co, level, i) else name, value = getlocal(level, i) end
      if name == nil then break end
      if name:sub(1, 1) ~= "(" then
        if index[name] == nil then names[#names + 1] = name end
        index[name] = i
        values[name] = value
      end
    end
    return names, values, index
  end)
end

local function frame_func(f)
  return at_frame(f, function(co, level)
    local info
    if co then info = getinfo(co, level, "f") else info = getinfo(level, "f") end
    return info and info.func
  end)
end

local function func_upvalues(fn)
  local names, values, index = {}, {}, {}
  if fn == nil then return names, values, index end
  for i = 1, 250 do
    local name, value = getupvalue(fn, i)
    if name == nil then break end
    if name ~= "_ENV" and name ~= "" then
      names[#names + 1] = name
      values[name] = value
      index[name] = i
    end
  end
  return names, values, index
end

-- What the script defined at the top level: the environment minus what the engine put there.
local builtin = {}
function agent.snapshot_builtins()
  for k in pairs(env) do builtin[k] = true end
end

-- Values ------------------------------------------------------------------------------------
local function count_entries(t)
  local n = 0
  for _ in next, t do
    n = n + 1
    if n >= MAX_COUNT then break end
  end
  return n
end

local function display(v)
  local ty = type(v)
  if ty == "string" then
    if #v > MAX_STRING then return string_format("%q", v:sub(1, MAX_STRING)) .. "..." end
    return string_format("%q", v)
  elseif ty == "number" then
    return tostring(v)
  elseif ty == "table" then
    if is_error(v) then return tostring(rawget(v, "type")) .. ": " .. tostring(rawget(v, "message")) end
    local n = count_entries(v)
    local len = #v
    if len > 0 and len == n then return "table [" .. len .. "]" end
    return "table {" .. n .. (n == 1 and " entry}" or " entries}")
  elseif ty == "function" then
    local info = getinfo(v, "S")
    if info.what == "C" then return "function (built-in)" end
    return "function <" .. info.short_src .. ":" .. tostring(info.linedefined) .. ">"
  end
  return tostring(v)
end

local function describe(name, v)
  local ref = 0
  local count = 0
  if type(v) == "table" then
    count = count_entries(v)
    if count > 0 then ref = new_handle({ kind = "table", t = v }) end
  end
  return { name = name, value = display(v), type = type(v), ref = ref, count = count }
end

local function key_name(k)
  if type(k) == "string" and k:match("^[%a_][%w_]*$") then return k end
  if type(k) == "string" then return "[" .. string_format("%q", k) .. "]" end
  return "[" .. tostring(k) .. "]"
end

-- A table's entries in a stable order: the array part first, then the other keys sorted.
local function table_entries(t)
  local out = {}
  local len = #t
  for i = 1, len do out[#out + 1] = { key = i, value = rawget(t, i) } end
  local rest = {}
  for k, v in next, t do
    if not (math_type(k) == "integer" and k >= 1 and k <= len) then rest[#rest + 1] = { key = k, value = v } end
    if #rest >= MAX_COUNT then break end
  end
  sort(rest, function(a, b)
    local ta, tb = type(a.key), type(b.key)
    if ta ~= tb then return ta < tb end
    if ta == "number" or ta == "string" then return a.key < b.key end
    return tostring(a.key) < tostring(b.key)
  end)
  for _, e in ipairs(rest) do out[#out + 1] = e end
  return out
end

function agent.scopes(frame_id)
  local f = frames[frame_id]
  if f == nil then error("unknown frame " .. tostring(frame_id), 0) end
  return {
    locals = new_handle({ kind = "locals", frame = f }),
    upvalues = new_handle({ kind = "upvalues", frame = f }),
    globals = new_handle({ kind = "globals" }),
    args = rawget(env, "args") ~= nil and type(rawget(env, "args")) == "table" and new_handle({ kind = "table", t = rawget(env, "args") }) or 0,
  }
end

local function named_list(names, values)
  local out = {}
  for _, n in ipairs(names) do out[#out + 1] = { key = n, value = values[n] } end
  return out
end

local function globals_list()
  local out = {}
  for k, v in next, env do
    if not builtin[k] then out[#out + 1] = { key = k, value = v } end
  end
  sort(out, function(a, b) return tostring(a.key) < tostring(b.key) end)
  return out
end

local function entries_of(h)
  if h.kind == "table" then return table_entries(h.t) end
  if h.kind == "locals" then return named_list(frame_locals(h.frame)) end
  if h.kind == "upvalues" then return named_list(func_upvalues(frame_func(h.frame))) end
  return globals_list()
end

function agent.variables(ref, start, count)
  local h = handles[ref]
  if h == nil then error("unknown variables reference " .. tostring(ref) .. " (references last only while the run is paused)", 0) end
  local entries = entries_of(h)
  local first = start + 1
  local last = count > 0 and math.min(#entries, start + count) or #entries
  local out = {}
  for i = first, last do
    local e = entries[i]
    local name = h.kind == "table" and key_name(e.key) or tostring(e.key)
    out[#out + 1] = describe(name, e.value)
  end
  return out
end

-- Evaluation --------------------------------------------------------------------------------
-- The frame the hook stopped in: the innermost user frame of the running thread.
local function top_frame()
  local co = co_running()
  local top = depth()
  for k = 1, top do
    local info = getinfo(k, "S")
    if info and info.what ~= "C" and user_source(info.source) then return { co = co, h = top - k } end
  end
  return nil
end

-- An environment that reads the frame's locals, then its upvalues, then the script's globals.
-- Writes are refused unless `writable`; then they go back where the name lives.
local function frame_env(f, writable)
  local lnames, lvalues, lindex = {}, {}, {}
  local unames, uvalues, uindex = {}, {}, {}
  local fn = nil
  if f ~= nil then
    lnames, lvalues, lindex = frame_locals(f)
    fn = frame_func(f)
    unames, uvalues, uindex = func_upvalues(fn)
  end
  local writes = {}
  local proxy = setmetatable({}, {
    __index = function(_, k)
      if lindex[k] ~= nil then return lvalues[k] end
      if uindex[k] ~= nil then return uvalues[k] end
      return env[k]
    end,
    __newindex = function(_, k, v)
      if not writable then error("evaluate is read-only: cannot assign " .. tostring(k) .. " (set the variable in the Variables view, or launch with evaluateWrites = true)", 2) end
      writes[#writes + 1] = { k = k, v = v }
      if lindex[k] ~= nil then lvalues[k] = v elseif uindex[k] ~= nil then uvalues[k] = v else env[k] = v end
    end,
  })
  local function apply()
    for _, w in ipairs(writes) do
      if lindex[w.k] ~= nil then
        at_frame(f, function(co, level)
          if co then setlocal(co, level, lindex[w.k], w.v) else setlocal(level, lindex[w.k], w.v) end
        end)
      elseif uindex[w.k] ~= nil then
        setupvalue(fn, uindex[w.k], w.v)
      end
    end
  end
  return proxy, apply
end

local function compile(expression, proxy)
  local chunk = load("return " .. expression, "=(evaluate)", "t", proxy)
  -- A statement too: an assignment then meets the read-only environment, which says why.
  if chunk == nil then chunk = load(expression, "=(evaluate)", "t", proxy) end
  if chunk == nil then
    local _, msg = load("return " .. expression, "=(evaluate)", "t", proxy)
    error("cannot evaluate " .. string_format("%q", expression) .. ": " .. tostring(msg), 0)
  end
  return chunk
end

local function evaluate_in(f, expression, writable)
  local proxy, apply = frame_env(f, writable)
  local chunk = compile(expression, proxy)
  local r = pack(pcall(chunk))
  if not r[1] then
    local e = r[2]
    error(is_error(e) and (tostring(rawget(e, "type")) .. ": " .. tostring(rawget(e, "message"))) or tostring(e), 0)
  end
  apply()
  return r[2], r.n
end

function agent.evaluate(frame_id, expression, writable)
  local f = nil
  if frame_id ~= nil then
    f = frames[frame_id]
    if f == nil then error("unknown frame " .. tostring(frame_id), 0) end
  end
  local v, n = evaluate_in(f, expression, writable)
  if n < 2 then return describe("result", nil) end
  return describe("result", v)
end

-- A breakpoint's condition, in the frame the hook stopped in.
function agent.condition(expression)
  local ok, v = pcall(evaluate_in, top_frame(), expression, false)
  if not ok then return { ok = false, message = tostring(v) } end
  return { ok = true, value = v ~= nil and v ~= false }
end

-- A log point's message: each {expression} replaced by its value.
function agent.interpolate(template)
  local f = top_frame()
  return (template:gsub("%b{}", function(m)
    local ok, v = pcall(evaluate_in, f, m:sub(2, -2), false)
    if not ok then return "{" .. tostring(v) .. "}" end
    return type(v) == "string" and v or display(v)
  end))
end

function agent.set_variable(ref, name, expression)
  local h = handles[ref]
  if h == nil then error("unknown variables reference " .. tostring(ref), 0) end
  local v = evaluate_in(h.frame or top_frame(), expression, false)
  if h.kind == "locals" then
    local _, _, lindex = frame_locals(h.frame)
    local i = lindex[name]
    if i == nil then error("no local named " .. name .. " in this frame", 0) end
    at_frame(h.frame, function(co, level)
      if co then setlocal(co, level, i, v) else setlocal(level, i, v) end
    end)
  elseif h.kind == "upvalues" then
    local fn = frame_func(h.frame)
    local _, _, uindex = func_upvalues(fn)
    if uindex[name] == nil then error("no upvalue named " .. name .. " in this frame", 0) end
    setupvalue(fn, uindex[name], v)
  elseif h.kind == "globals" then
    rawset(env, name, v)
  else
    local found = false
    for _, e in ipairs(table_entries(h.t)) do
      if key_name(e.key) == name then
        rawset(h.t, e.key, v)
        found = true
        break
      end
    end
    if not found then error("no field " .. name .. " in this table", 0) end
  end
  return describe(name, v)
end

-- Exceptions --------------------------------------------------------------------------------
local break_caught, break_uncaught = false, false

function agent.exceptions(caught, uncaught)
  break_caught, break_uncaught = caught, uncaught
end

local function error_text(e)
  if type(e) == "string" then return e end
  if is_error(e) then return tostring(rawget(e, "type")) .. ": " .. tostring(rawget(e, "message")) end
  return "(error object is a " .. type(e) .. " value)"
end

-- The script's pcall and xpcall stop at the error while the stack still shows where it was
-- raised, when breaking on every error is on; what they return is unchanged.
local function caught_handler(e)
  if break_caught and not rawequal(e, FATAL) then brk("caught", error_text(e)) end
  return e
end
local sb_xpcall = env.xpcall
env.pcall = function(f, ...)
  return sb_xpcall(f, caught_handler, ...)
end
env.xpcall = function(f, handler, ...)
  return sb_xpcall(f, function(e)
    caught_handler(e)
    return handler(e)
  end, ...)
end

-- Called by the engine's phase error handler for an error nobody caught.
function agent.uncaught(e)
  if (break_uncaught or break_caught) and not rawequal(e, FATAL) then brk("uncaught", error_text(e)) end
end

return agent
