-- The test API a *_test.lua file sees (busted's shape), run as the prelude of the test file in
-- the same sandbox scripts run in. `__t` holds the runner's host bindings; the file's
-- describe/it calls only register, `main` (defined here) runs the tree once the file loaded.
local host = __t
-- The runner's bindings are reached only through the API below.
__t = nil
local engine = ...
local insert, concat, sort = table.insert, table.concat, table.sort

-- Where the caller of an API function stands: "file:line: " from error()'s own position
-- machinery (the sandbox has no debug library). Through the sandbox's pcall wrapper levels 1
-- and 2 are that wrapper's frames, 3 is where() and 4 its caller.
local function where(level)
  local _, w = pcall(error, "", level)
  if type(w) ~= "string" then return nil, nil end
  local file, line = w:match("^(.-):(%d+): $")
  return file, line and tonumber(line) or nil
end

local function show(v, depth, seen)
  depth = depth or 0
  local t = type(v)
  if t == "string" then return string.format("%q", v) end
  if t ~= "table" then return tostring(v) end
  if engine.is_error(v) then return tostring(v.type) .. ": " .. tostring(v.message) end
  seen = seen or {}
  if seen[v] then return "<cycle>" end
  if depth > 4 then return "{...}" end
  seen[v] = true
  local keys = {}
  for k in pairs(v) do insert(keys, k) end
  sort(keys, function(a, b)
    if type(a) == type(b) and (type(a) == "number" or type(a) == "string") then return a < b end
    return type(a) < type(b)
  end)
  local n, parts = #v, {}
  for _, k in ipairs(keys) do
    local item = show(v[k], depth + 1, seen)
    if type(k) == "number" and k >= 1 and k <= n and math.type(k) == "integer" then
      insert(parts, item)
    elseif type(k) == "string" and k:match("^[%a_][%w_]*$") then
      insert(parts, k .. " = " .. item)
    else
      insert(parts, "[" .. show(k, depth + 1, seen) .. "] = " .. item)
    end
  end
  seen[v] = nil
  return "{ " .. concat(parts, ", ") .. " }"
end

local function same(a, b)
  if a == b then return true end
  if type(a) ~= "table" or type(b) ~= "table" then return false end
  for k, v in pairs(a) do if not same(v, b[k]) then return false end end
  for k in pairs(b) do if a[k] == nil then return false end end
  return true
end

local function message_of(e)
  if type(e) == "string" then return e end
  if engine.is_error(e) then return tostring(e.type) .. ": " .. tostring(e.message) end
  if type(e) == "table" and e.message ~= nil then return tostring(e.message) end
  return show(e)
end

-- A failed assertion: a table the runner recognises, with expected/actual already printed.
local FAILURE = {}
local function fail(message, expected, actual, note)
  local file, line = where(6)
  error({
    [FAILURE] = true,
    message = note and (message .. " (" .. tostring(note) .. ")") or message,
    expected = expected, actual = actual, file = file, line = line,
  }, 0)
end

local builtin_assert = assert
local A = setmetatable({}, { __call = function(_, v, ...) return builtin_assert(v, ...) end })
function A.equals(expected, actual, note)
  if expected ~= actual then fail("expected values to be equal", show(expected), show(actual), note) end
end
A.equal = A.equals
function A.same(expected, actual, note)
  if not same(expected, actual) then fail("expected values to be the same (deep)", show(expected), show(actual), note) end
end
function A.truthy(v, note)
  if not v then fail("expected a truthy value", "truthy", show(v), note) end
end
function A.falsy(v, note)
  if v then fail("expected a falsy value", "nil or false", show(v), note) end
end
A.is_true = function(v, note) if v ~= true then fail("expected true", "true", show(v), note) end end
A.is_false = function(v, note) if v ~= false then fail("expected false", "false", show(v), note) end end
A.is_nil = function(v, note) if v ~= nil then fail("expected nil", "nil", show(v), note) end end
function A.error_matches(fn, pattern, note)
  local ok, e = pcall(fn)
  if ok then fail("expected an error", "an error matching " .. show(pattern), "no error", note) end
  local m = message_of(e)
  if not m:find(pattern) then fail("expected the error to match", show(pattern), show(m), note) end
end
function A.has_error(fn, note)
  local ok = pcall(fn)
  if ok then fail("expected an error", "an error", "no error", note) end
end
function A.has_no_error(fn, note)
  local ok, e = pcall(fn)
  if not ok then fail("expected no error", "no error", show(message_of(e)), note) end
end
assert = A

-- The tree a file declares --------------------------------------------------------------
local root = { name = nil, children = {}, before = {}, after = {} }
local current = root
local load_errors = {}

function describe(name, fn)
  local node = { name = tostring(name), children = {}, before = {}, after = {}, parent = current }
  insert(current.children, { kind = "describe", node = node })
  local prev = current
  current = node
  local ok, e = pcall(fn)
  current = prev
  if not ok then
    local file, line = where(5)
    insert(load_errors, { name = tostring(name), message = message_of(e), file = file, line = line })
  end
end
function it(name, fn)
  local file, line = where(5)
  insert(current.children, { kind = "it", name = tostring(name), fn = fn, file = file, line = line })
end
function pending(name)
  local file, line = where(5)
  insert(current.children, { kind = "pending", name = tostring(name), file = file, line = line })
end
function before_each(fn) insert(current.before, fn) end
function after_each(fn) insert(current.after, fn) end

-- What a test drives ------------------------------------------------------------------------
local function wrap_session(s)
  if s == nil then return nil end
  function s:commit() return host.session_commit(self.id) end
  function s:discard() return host.session_discard(self.id) end
  return s
end

script = {
  -- opts: { context = { trigger_entity = id, ... }, mode = "session" | "autoCommit" }
  run = function(name, args, opts)
    local out = host.run_script(tostring(name), args or {}, opts or {})
    out.session = wrap_session(out.session)
    return out
  end,
}
fixture = { load = function(file) return host.fixture_load(tostring(file)) end }
workspace = {
  get = function(id) return host.entity(tostring(id)) end,
  -- A change as a person makes it: committed at once, and the show's triggers fire on it.
  set = function(id, field, value) host.set_field(tostring(id), tostring(field), value) end,
  query = function(q, ...) return host.query(tostring(q), { ... }) end,
}
triggers = {
  fired = function()
    local list = host.triggers_fired()
    for _, f in ipairs(list) do f.session = wrap_session(f.session) end
    return list
  end,
}
clock = {
  now = function() return host.clock_now() end,
  advance = function(ms) return host.clock_advance(ms) end,
}
sim = { dialog = {
  answer = function(message, value) host.dialog_answer(tostring(message), value) end,
  asked = function() return host.dialogs_asked() end,
} }

-- Running the tree --------------------------------------------------------------------------
local function failure_of(e)
  if type(e) == "table" and e[FAILURE] then
    return { message = e.message, expected = e.expected, actual = e.actual, file = e.file, line = e.line }
  end
  local m = message_of(e)
  local file, line, rest = m:match("^([^:\n]+%.lua):(%d+): (.*)$")
  if file then return { message = rest, file = file, line = tonumber(line), error = true } end
  return { message = m, error = true }
end

local function run_node(node, path, befores, afters)
  for _, c in ipairs(node.children) do
    if c.kind == "describe" then
      local b, a = {}, {}
      for _, f in ipairs(befores) do insert(b, f) end
      for _, f in ipairs(c.node.before) do insert(b, f) end
      for _, f in ipairs(c.node.after) do insert(a, f) end
      for _, f in ipairs(afters) do insert(a, f) end
      local p = {}
      for _, s in ipairs(path) do insert(p, s) end
      insert(p, c.node.name)
      run_node(c.node, p, b, a)
    else
      local names = {}
      for _, s in ipairs(path) do insert(names, s) end
      insert(names, c.name)
      if c.kind == "pending" then
        if host.wanted(names) then host.report({ path = names, status = "pending", file = c.file, line = c.line }) end
      else
        if host.begin(names) then
        local failure = nil
        local function step(f)
          if failure then return end
          local ok, e = pcall(f)
          if not ok then failure = failure_of(e) end
        end
        for _, f in ipairs(befores) do step(f) end
        step(c.fn)
        -- after_each runs even when the test failed; its own failure is kept only if none came first.
        for _, f in ipairs(afters) do
          local ok, e = pcall(f)
          if not ok and not failure then failure = failure_of(e) end
        end
        if failure then
          failure.file = failure.file or c.file
          failure.line = failure.line or c.line
        end
        host.report({ path = names, status = failure and "fail" or "pass", failure = failure, file = c.file, line = c.line })
        end
      end
    end
  end
end

function main()
  for _, e in ipairs(load_errors) do
    host.report({ path = { e.name }, status = "fail", failure = { message = "describe failed: " .. e.message, file = e.file, line = e.line, error = true } })
  end
  run_node(root, {}, root.before, root.after)
end
