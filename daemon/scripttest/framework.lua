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

local function outcome(out)
  out.session = wrap_session(out.session)
  return out
end

-- A run script.start left going (a listener): :wait() for its end, :stop() to cancel it.
local Running = {}
Running.__index = Running
function Running:wait() return outcome(host.script_wait(self.run_id)) end
function Running:stop() return outcome(host.script_stop(self.run_id)) end

script = {
  -- opts: { context = { trigger_entity = id, ... }, mode = "session" | "autoCommit" }
  run = function(name, args, opts)
    return outcome(host.run_script(tostring(name), args or {}, opts or {}))
  end,
  -- Starts a run and returns once it waits for input, sleeps or ended.
  start = function(name, args, opts)
    return setmetatable(host.script_start(tostring(name), args or {}, opts or {}), Running)
  end,
}
fixture = {
  load = function(file) return host.fixture_load(tostring(file)) end,
  -- A file beside the test as text (e.g. a sample export to hand to sim.fs.write).
  read = function(file) return host.fixture_read(tostring(file)) end,
  -- openprod test --daemon: the show's entities this test starts with, by table and display name.
  snapshot = function() return host.fixture_snapshot() end,
}
workspace = {
  get = function(id) return host.entity(tostring(id)) end,
  -- A change as a person makes it: committed at once, and the show's triggers fire on it.
  set = function(id, field, value) host.set_field(tostring(id), tostring(field), value) end,
  query = function(q, ...) return host.query(tostring(q), { ... }) end,
  -- The store's conflicts: { fields = { ... }, bulk = { ... } } (concurrent writes of two peers).
  conflicts = function() return host.conflicts() end,
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
  -- Moves virtual time, waking the scripts' sleeps due by then, in order.
  advance = function(ms) return host.clock_advance(ms) end,
  -- Sleeps of runs not yet over.
  sleeping = function() return host.clock_sleeping() end,
}

local MidiInput = {}
MidiInput.__index = MidiInput
function MidiInput:note_on(channel, note, velocity) host.midi_play(self.name, "note_on", channel, note, velocity or 127) return self end
function MidiInput:note_off(channel, note, velocity) host.midi_play(self.name, "note_off", channel, note, velocity or 0) return self end
function MidiInput:cc(channel, controller, value) host.midi_play(self.name, "cc", channel, controller, value) return self end
function MidiInput:send(bytes) host.midi_play(self.name, bytes) return self end

sim = {
  dialog = {
    answer = function(message, value) host.dialog_answer(tostring(message), value) end,
    asked = function() return host.dialogs_asked() end,
  },
  osc = {
    -- Into the script listening on `port`, as from a console at 127.0.0.1:9000.
    send = function(port, path, args) host.osc_send(port, tostring(path), args or {}) end,
    -- What scripts sent: { host, port, path, args } in order.
    sent = function() return host.osc_sent() end,
  },
  midi = {
    input = function(name) return setmetatable({ name = tostring(name) }, MidiInput) end,
    -- What scripts sent: { [output] = { {bytes}, ... } }, or one output's list.
    sent = function(name)
      local all = host.midi_sent(name)
      if name ~= nil then return all[name] or {} end
      return all
    end,
  },
  peer = {
    -- Another peer of the show (its own Automerge actor), joined at first use with the state then.
    -- edit: a change made there from what it knew at its last sync, merged in (concurrent with
    -- anything changed here since); sync: both know everything again; get: the entity there.
    edit = function(id, field, value) host.peer_edit(tostring(id), tostring(field), value) end,
    sync = function() host.peer_sync() end,
    get = function(id) return host.peer_get(tostring(id)) end,
  },
  fs = {
    -- Files of the scratch show (a copy of the show folder): put back after each test.
    write = function(path, content) host.fs_write(tostring(path), content) end,
    remove = function(path) host.fs_remove(tostring(path)) end,
    read = function(path) return host.fs_read(tostring(path)) end,
  },
  http = {
    -- pattern: a URL with * wildcards, optionally "METHOD url"; response: a body, or
    -- { status = 200, body = "...", json = {...}, headers = {...} }.
    respond = function(pattern, response) host.http_respond(tostring(pattern), response) end,
    requests = function() return host.http_requests() end,
    -- Into the script serving `port` (http.serve, started with script.start): req is a path or
    -- { method = "GET", path = "/", headers = {...}, body = "..." | json = {...} }; returns
    -- { status, headers, body, json } once the script answered (json: a JSON body decoded;
    -- 500 with the error as body if the serving run failed).
    request = function(port, req) return host.http_request(port, req or "/") end,
  },
}

-- Spies and stubs (busted's shape) ----------------------------------------------------------
local SPY = {}
local function make_spy(fn, revert)
  local s = { [SPY] = true, calls = {} }
  s.revert = revert or function() end
  return setmetatable(s, { __call = function(self, ...)
    insert(self.calls, table.pack(...))
    if fn then return fn(...) end
  end })
end
spy = {
  new = function(fn) return make_spy(fn) end,
  -- Replaces t[name] with a spy that calls the original; s:revert() puts it back.
  on = function(t, name)
    local original = t[name]
    if type(original) ~= "function" and not (type(original) == "table" and original[SPY]) then
      error(("spy.on: %s is not a function"):format(tostring(name)), 2)
    end
    local s
    s = make_spy(function(...) return original(...) end, function() t[name] = original end)
    t[name] = s
    return s
  end,
}
-- stub(t, name, ...): t[name] becomes a spy returning the values given (the original is not called).
stub = setmetatable({
  new = function(...) local r = table.pack(...) return make_spy(function() return table.unpack(r, 1, r.n) end) end,
}, { __call = function(_, t, name, ...)
  local original = t[name]
  local r = table.pack(...)
  local s = make_spy(function() return table.unpack(r, 1, r.n) end, function() t[name] = original end)
  t[name] = s
  return s
end })

local function pack_show(p) local parts = {} for i = 1, p.n do parts[i] = show(p[i]) end return "(" .. concat(parts, ", ") .. ")" end
local function calls_text(s) local out = {} for _, c in ipairs(s.calls) do insert(out, pack_show(c)) end return #out == 0 and "no calls" or concat(out, ", ") end
function A.spy(s)
  if type(s) ~= "table" or not s[SPY] then fail("assert.spy needs a spy (spy.on, spy.new or stub)", "a spy", show(s)) end
  if s.refresh then
    s.calls = {}
    for _, c in ipairs(s.refresh()) do
      local p = { n = #c }
      for i, v in ipairs(c) do p[i] = v end
      insert(s.calls, p)
    end
  end
  local checks = {}
  -- was_called(): at least once; was_called(n): exactly n times.
  function checks.was_called(n)
    if n == nil then
      if #s.calls == 0 then fail("expected the spy to be called", "at least one call", "no calls") end
    elseif #s.calls ~= n then fail("expected the spy to be called " .. n .. " time(s)", tostring(n), #s.calls .. ": " .. calls_text(s)) end
  end
  function checks.was_not_called()
    if #s.calls > 0 then fail("expected the spy not to be called", "no calls", calls_text(s)) end
  end
  function checks.was_called_with(...)
    local want = table.pack(...)
    for _, c in ipairs(s.calls) do
      if c.n == want.n then
        local ok = true
        for i = 1, want.n do if not same(want[i], c[i]) then ok = false break end end
        if ok then return end
      end
    end
    fail("expected a call with these arguments", pack_show(want), calls_text(s))
  end
  checks.called = checks.was_called
  checks.called_with = checks.was_called_with
  return checks
end

-- Spies on what the show's scripts call: script.spy("core.set_field") records every call the
-- scripts make of it in this test (arguments as the script passed them), without changing it;
-- script.stub("core.query_one", value) makes it return `value` instead.
function script.spy(name)
  local s = make_spy(nil)
  s.refresh = function() return host.spy_calls(tostring(name)) end
  host.spy_on(tostring(name), false, nil)
  return s
end
function script.stub(name, value)
  local s = make_spy(nil)
  s.refresh = function() return host.spy_calls(tostring(name)) end
  host.spy_on(tostring(name), true, value)
  return s
end

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
