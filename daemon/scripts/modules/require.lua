-- require(): the host resolves a name and reads the file (one thread hop per new module);
-- compiling, the per-run cache and cycle detection live here, so a cached require costs a
-- couple of table lookups. Wrapped in a do-block with SCRIPT_PATH by require-run.ts.
-- Each module gets its own `require` (a local prepended to its source) bound to its own
-- path, so "./x" inside a module is relative to that module even when called later.
local engine = ...
local host = __require
__require = nil
local resolve = host.resolve
local make_error = engine.error
local load, type, setmetatable, tonumber, error = load, type, setmetatable, tonumber, error
local smatch, sfind, ssub, sgsub, sgmatch = string.match, string.find, string.sub, string.gsub, string.gmatch
local concat = table.concat

-- Modules see `require` as a local; their own `...` is unused by the spec.
local PREFIX = "local require = ...; "

local by_path = {}     -- show-relative path -> module value
local by_request = {}  -- calling file -> name -> module value
local loading = {}     -- path -> true while its body runs
local stack = {}       -- paths being loaded, outermost first

local popper = setmetatable({}, {
  __metatable = false,
  __close = function()
    local top = #stack
    local p = stack[top]
    stack[top] = nil
    if p ~= nil then loading[p] = nil end
  end,
})
if SCRIPT_PATH ~= "" then
  loading[SCRIPT_PATH] = true
  stack[1] = SCRIPT_PATH
end

local function lines_of(source)
  local out = {}
  for l in sgmatch(source .. "\n", "([^\n]*)\n") do out[#out + 1] = sgsub(l, "\r$", "") end
  return out
end

-- Lua reports "chunk:LINE: message near 'tok'" without a column: the column is where that
-- token sits on the line; when it occurs more than once, the occurrence whose prefix of the
-- source fails with the same message.
local function syntax_message(name, path, source, raw)
  local line, message = smatch(raw, "^.-:(%d+): (.*)$")
  if line == nil then line, message = "1", raw end
  local n = tonumber(line)
  local column = 1
  local token = smatch(message, "near '(.*)'$")
  if token then
    local lines = lines_of(source)
    local text = lines[n] or ""
    local first = sfind(text, token, 1, true)
    if first then
      column = first
      if sfind(text, token, first + 1, true) then
        local before = concat(lines, "\n", 1, n - 1)
        if n > 1 then before = before .. "\n" end
        local at, tries = first, 0
        while at and tries < 20 do
          local _, m = load(PREFIX .. before .. ssub(text, 1, at + #token - 1), "@" .. path, "t")
          if m == raw then column = at break end
          at = sfind(text, token, at + 1, true)
          tries = tries + 1
        end
      end
    end
  end
  return "syntax error in \"" .. name .. "\": " .. n .. ":" .. column .. ": " .. message, n, column, message
end

local make_require

-- The module value, or nil and the error value.
local function load_module(name, from)
  local seen = by_request[from]
  if seen ~= nil then
    local v = seen[name]
    if v ~= nil then return v end
  end
  local r = resolve(name, from)
  local e = r.error
  if e ~= nil then return nil, make_error(e.type, e.message, e.details) end
  local path = r.path
  local v = by_path[path]
  if v == nil then
    if loading[path] then
      local cycle, from_i = {}, 1
      for i = 1, #stack do if stack[i] == path then from_i = i break end end
      for i = from_i, #stack do cycle[#cycle + 1] = stack[i] end
      cycle[#cycle + 1] = path
      return nil, make_error("InvalidOperation", "circular require: " .. concat(cycle, " -> "), { module = name, cycle = cycle })
    end
    local source = r.source
    local chunk, raw = load(PREFIX .. source, "@" .. path, "t")
    if chunk == nil then
      local msg, line, column, what = syntax_message(name, path, source, raw)
      return nil, make_error("InvalidOperation", msg, { module = name, file = path, line = line, column = column, message = what })
    end
    loading[path] = true
    stack[#stack + 1] = path
    do
      local _ <close> = popper
      v = chunk(make_require(path))
    end
    if v == nil then v = true end
    by_path[path] = v
  end
  if seen == nil then
    seen = {}
    by_request[from] = seen
  end
  seen[name] = v
  return v
end

local function check_name(name)
  if type(name) ~= "string" then
    error(make_error("InvalidOperation", "require: expected a module name (string), got " .. type(name), {}), 3)
  end
end

make_require = function(from)
  local function try(name)
    check_name(name)
    return load_module(name, from)
  end
  return setmetatable({ try = try }, {
    __metatable = false,
    __call = function(_, name)
      check_name(name)
      local v, e = load_module(name, from)
      if e ~= nil then error(e, 0) end
      return v
    end,
  })
end

require = make_require(SCRIPT_PATH)
