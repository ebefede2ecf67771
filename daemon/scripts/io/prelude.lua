-- Show I/O prelude: gives the raw host bindings of osc/midi/http their Lua face.
-- The host hands Lua plain handles ({ handle = "osc-1", ... }); this chunk wraps them into
-- objects with methods (socket:recv(), input:recv(), server:accept(), req:respond()).
-- Calls that return an object await inside, so `core.await(osc.listen(8000))` and
-- `osc.listen(8000)` both give the socket (core.await passes non-futures through).
-- recv()/accept() bring queued items over in batches and hand them out one by one: one
-- thread hop serves many messages. Each module block runs only if the module is installed.
-- Safe to concatenate with other preludes: everything is local to its do-block.
do
  local await = core.await
  local type, pairs, setmetatable, tonumber, rawget = type, pairs, setmetatable, tonumber, rawget
  local math_type = math.type
  local sfmt, sbyte, schar, sfind, ssub, gsub = string.format, string.byte, string.char, string.find, string.sub, string.gsub

  local function to_hex(bytes)
    return (gsub(bytes, ".", function(c) return sfmt("%02x", sbyte(c)) end))
  end
  local function from_hex(hex)
    return (gsub(hex, "%x%x", function(h) return schar(tonumber(h, 16)) end))
  end

  -- Per-object state the script cannot reach or forge.
  local state = setmetatable({}, { __mode = "k" })

  -- Returns next(self, timeout_ms): one item, or nil when closed, cancelled or timed out.
  local function batched(raw, batch, shape)
    return function(self, timeout_ms)
      local st = state[self]
      if st == nil then return nil end
      local buf, head = st.buf, st.head
      if buf == nil or buf[head] == nil then
        local got = await(raw(st.handle, batch, timeout_ms))
        if type(got) ~= "table" or got[1] == nil then return nil end
        buf, head = got, 1
        st.buf = buf
      end
      local item = buf[head]
      buf[head] = nil
      st.head = head + 1
      if shape then item = shape(item) end
      return item
    end
  end

  local function object(methods, fields, handle)
    local o = setmetatable(fields, methods)
    state[o] = { handle = handle, head = 1 }
    return o
  end

  ------------------------------------------------------------------------------ osc
  if type(osc) == "table" and rawget(osc, "__recv") then
    local raw_listen, raw_recv, raw_close, raw_send = osc.listen, osc.__recv, osc.__close, osc.send
    osc.__recv, osc.__close = nil, nil

    local function shape(m)
      if sfind(m.types, "b", 1, true) then
        local args = m.args
        for i = 1, #m.types do
          if ssub(m.types, i, i) == "b" then args[i] = from_hex(args[i].hex) end
        end
      end
      return m
    end

    local Socket = { __metatable = "osc socket" }
    Socket.__index = {
      recv = batched(raw_recv, 256, shape),
      close = function(self)
        local st = state[self]
        if st then raw_close(st.handle) end
      end,
    }

    osc.listen = function(port, opts)
      local s = await(raw_listen(port, opts))
      if s == nil then return nil end
      return object(Socket, { handle = s.handle, port = s.port, host = s.host }, s.handle)
    end

    osc.float = function(x) return { type = "float", value = x } end
    osc.int = function(x) return { type = "int", value = x } end
    osc.blob = function(bytes) return { type = "blob", hex = to_hex(bytes) } end
    osc.NIL = setmetatable({ type = "nil" }, { __newindex = function() end })

    osc.send = function(host, port, path, args)
      local out = args
      if type(args) == "table" then
        out = {}
        local n = math_type(args.n) == "integer" and args.n or 0
        for k in pairs(args) do
          if math_type(k) == "integer" and k > n then n = k end
        end
        for i = 1, n do
          local v = args[i]
          if v == nil then out[i] = osc.NIL
          elseif math_type(v) == "float" then out[i] = { type = "float", value = v }
          else out[i] = v end
        end
      end
      return raw_send(host, port, path, out)
    end
  end

  ------------------------------------------------------------------------------ midi
  if type(midi) == "table" and rawget(midi, "__recv") then
    local raw_open_in, raw_open_out, raw_recv, raw_send, raw_close = midi.open_input, midi.open_output, midi.__recv, midi.__send, midi.__close
    midi.__recv, midi.__send, midi.__close = nil, nil, nil

    local function closer(self)
      local st = state[self]
      if st then raw_close(st.handle) end
    end
    local function method(kind)
      return function(self, a, b, c)
        local st = state[self]
        if st == nil then error("MIDI output methods are called with a colon: out:send_" .. kind .. "(...)", 2) end
        return raw_send(st.handle, kind, a, b, c)
      end
    end

    local Input = { __metatable = "midi input" }
    Input.__index = { recv = batched(raw_recv, 256), close = closer }
    local Output = { __metatable = "midi output" }
    Output.__index = {
      send_note = method("note"), send_note_off = method("note_off"), send_cc = method("cc"),
      send_program = method("program"), send_pitch_bend = method("pitch_bend"), send = method("raw"),
      close = closer,
    }

    midi.open_input = function(name)
      local p = await(raw_open_in(name))
      if p == nil then return nil end
      return object(Input, { handle = p.handle, name = p.name }, p.handle)
    end
    midi.open_output = function(name)
      local p = await(raw_open_out(name))
      if p == nil then return nil end
      return object(Output, { handle = p.handle, name = p.name }, p.handle)
    end
    midi.send_note = function(channel, note, velocity) return raw_send(nil, "note", channel, note, velocity) end
    midi.send_note_off = function(channel, note, velocity) return raw_send(nil, "note_off", channel, note, velocity) end
    midi.send_cc = function(channel, cc, value) return raw_send(nil, "cc", channel, cc, value) end
    midi.send_program = function(channel, program) return raw_send(nil, "program", channel, program) end
    midi.send_pitch_bend = function(channel, value) return raw_send(nil, "pitch_bend", channel, value) end
    midi.send = function(bytes) return raw_send(nil, "raw", bytes) end
  end

  ------------------------------------------------------------------------------ http
  if type(http) == "table" and rawget(http, "__accept") then
    local raw_serve, raw_accept, raw_respond, raw_close = http.serve, http.__accept, http.__respond, http.__close
    http.__accept, http.__respond, http.__close = nil, nil, nil

    local Request = { __metatable = "http request" }
    Request.__index = {
      respond = function(self, status, body, headers)
        local st = state[self]
        if st == nil then error("respond is called with a colon: req:respond(200, \"OK\")", 2) end
        return raw_respond(st.handle, status, body, headers)
      end,
    }
    local function as_request(r)
      local h = r.handle
      r.handle = nil
      return object(Request, r, h)
    end

    local Server = { __metatable = "http server" }
    Server.__index = {
      accept = batched(raw_accept, 64, as_request),
      close = function(self)
        local st = state[self]
        if st then raw_close(st.handle) end
      end,
    }

    http.serve = function(port, opts)
      local s = await(raw_serve(port, opts))
      if s == nil then return nil end
      return object(Server, { handle = s.handle, port = s.port, host = s.host }, s.handle)
    end
  end
end
