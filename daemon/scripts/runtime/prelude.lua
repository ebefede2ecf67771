-- Runtime prelude: runs in the script's sandbox before the script, with the engine table as `...`.
-- Builds what is easier said in Lua than across the thread boundary: context, json, core.commit's
-- two return values.
local engine = ...
local raise = engine.raise
local type, pairs, ipairs, tostring, select = type, pairs, ipairs, tostring, select
local mtype, floor, huge = math.type, math.floor, math.huge
local sfmt, sbyte, schar, ssub, sfind, concat = string.format, string.byte, string.char, string.sub, string.find, table.concat
local getmetatable = getmetatable

-- context ---------------------------------------------------------------------------------
local run = __run or {}
__run = nil
local hlc_time = context and context.hlc_time
context = {
  trigger_entity = function() return run.trigger_entity end,
  trigger_field = function() return run.trigger_field end,
  old_value = function() return run.old_value end,
  new_value = function() return run.new_value end,
  user = function() return run.user end,
  hlc_time = hlc_time,
  cancelled = engine.cancelled,
}

-- core.commit: true, or false and the conflicts a person has to resolve -------------------
local raw_commit = core.commit
core.commit = function()
  local r = raw_commit()
  if r == nil then return nil end
  if r.ok then return true end
  return false, r.conflicts
end

-- json -------------------------------------------------------------------------------------
local escapes = { ['"'] = '\\"', ["\\"] = "\\\\", ["\b"] = "\\b", ["\f"] = "\\f", ["\n"] = "\\n", ["\r"] = "\\r", ["\t"] = "\\t" }
local function escape(s)
  return '"' .. s:gsub('[%c"\\]', function(c) return escapes[c] or sfmt("\\u%04x", sbyte(c)) end) .. '"'
end

local function encode(v, out, stack, depth)
  local t = type(v)
  if v == nil then out[#out + 1] = "null"
  elseif t == "boolean" then out[#out + 1] = tostring(v)
  elseif t == "number" then
    if v ~= v or v == huge or v == -huge then raise("InvalidOperation", "json.encode: " .. tostring(v) .. " has no JSON form") end
    if mtype(v) == "integer" then out[#out + 1] = sfmt("%d", v)
    else
      local s = sfmt("%.14g", v)
      if tonumber(s) ~= v then s = sfmt("%.17g", v) end
      if not sfind(s, "[%.eEn]") then s = s .. ".0" end
      out[#out + 1] = s
    end
  elseif t == "string" then out[#out + 1] = escape(v)
  elseif t == "table" then
    if engine.is_error(v) then v = { type = v.type, message = v.message, details = v.details } end
    if stack[v] then raise("InvalidOperation", "json.encode: the table contains itself (a cycle); JSON cannot express that") end
    if depth > 200 then raise("InvalidOperation", "json.encode: tables nested deeper than 200 levels") end
    stack[v] = true
    local n, count, array = #v, 0, true
    for k in pairs(v) do
      count = count + 1
      if mtype(k) ~= "integer" or k < 1 or k > n then array = false end
    end
    if array and (count == n) and n > 0 then
      out[#out + 1] = "["
      for i = 1, n do
        if i > 1 then out[#out + 1] = "," end
        encode(v[i], out, stack, depth + 1)
      end
      out[#out + 1] = "]"
    else
      local keys = {}
      for k in pairs(v) do
        local kt = type(k)
        if kt ~= "string" and kt ~= "number" then raise("InvalidOperation", "json.encode: a table key of type " .. kt .. " has no JSON form") end
        keys[#keys + 1] = k
      end
      table.sort(keys, function(a, b) return tostring(a) < tostring(b) end)
      out[#out + 1] = "{"
      for i, k in ipairs(keys) do
        if i > 1 then out[#out + 1] = "," end
        out[#out + 1] = escape(tostring(k))
        out[#out + 1] = ":"
        encode(v[k], out, stack, depth + 1)
      end
      out[#out + 1] = "}"
    end
    stack[v] = nil
  else
    raise("InvalidOperation", "json.encode: a " .. t .. " value has no JSON form")
  end
end

local function decode(s)
  if type(s) ~= "string" then raise("InvalidOperation", "json.decode: expected a string, got " .. type(s)) end
  local pos = 1
  local function fail(msg) raise("InvalidOperation", sfmt("json.decode: %s at position %d", msg, pos), { position = pos }) end
  local function ws() pos = (sfind(s, "[^ \t\r\n]", pos)) or (#s + 1) end
  local value
  local function str()
    pos = pos + 1
    local parts = {}
    while true do
      local c = ssub(s, pos, pos)
      if c == "" then fail("unterminated string") end
      if c == '"' then pos = pos + 1 break end
      if c == "\\" then
        local e = ssub(s, pos + 1, pos + 1)
        local map = { b = "\b", f = "\f", n = "\n", r = "\r", t = "\t", ['"'] = '"', ["\\"] = "\\", ["/"] = "/" }
        if map[e] then parts[#parts + 1] = map[e]; pos = pos + 2
        elseif e == "u" then
          local hex = ssub(s, pos + 2, pos + 5)
          if not hex:match("^%x%x%x%x$") then fail("bad \\u escape") end
          local cp = tonumber(hex, 16)
          pos = pos + 6
          if cp >= 0xD800 and cp <= 0xDBFF and ssub(s, pos, pos + 1) == "\\u" then
            local lo = tonumber(ssub(s, pos + 2, pos + 5), 16)
            if lo and lo >= 0xDC00 and lo <= 0xDFFF then cp = 0x10000 + (cp - 0xD800) * 0x400 + (lo - 0xDC00); pos = pos + 6 end
          end
          parts[#parts + 1] = utf8.char(cp)
        else fail("bad escape") end
      else
        if sbyte(c) < 32 then fail("control character in string") end
        local stop = sfind(s, '["\\%c]', pos) or (#s + 1)
        parts[#parts + 1] = ssub(s, pos, stop - 1)
        pos = stop
      end
    end
    return concat(parts)
  end
  local depth = 0
  value = function()
    ws()
    local c = ssub(s, pos, pos)
    if c == "{" then
      depth = depth + 1
      if depth > 200 then fail("nested deeper than 200 levels") end
      pos = pos + 1
      local t = {}
      ws()
      if ssub(s, pos, pos) == "}" then pos = pos + 1; depth = depth - 1; return t end
      while true do
        ws()
        if ssub(s, pos, pos) ~= '"' then fail("expected a string key") end
        local k = str()
        ws()
        if ssub(s, pos, pos) ~= ":" then fail("expected ':'") end
        pos = pos + 1
        t[k] = value()
        ws()
        local d = ssub(s, pos, pos)
        pos = pos + 1
        if d == "}" then break end
        if d ~= "," then pos = pos - 1; fail("expected ',' or '}'") end
      end
      depth = depth - 1
      return t
    elseif c == "[" then
      depth = depth + 1
      if depth > 200 then fail("nested deeper than 200 levels") end
      pos = pos + 1
      local t, n = {}, 0
      ws()
      if ssub(s, pos, pos) == "]" then pos = pos + 1; depth = depth - 1; return t end
      while true do
        n = n + 1
        t[n] = value()
        ws()
        local d = ssub(s, pos, pos)
        pos = pos + 1
        if d == "]" then break end
        if d ~= "," then pos = pos - 1; fail("expected ',' or ']'") end
      end
      depth = depth - 1
      return t
    elseif c == '"' then return str()
    elseif ssub(s, pos, pos + 3) == "true" then pos = pos + 4; return true
    elseif ssub(s, pos, pos + 4) == "false" then pos = pos + 5; return false
    elseif ssub(s, pos, pos + 3) == "null" then pos = pos + 4; return nil
    else
      local num = s:match("^-?%d+%.?%d*[eE]?[-+]?%d*", pos)
      if not num or num == "" or num == "-" then fail(c == "" and "unexpected end of input" or ("unexpected '" .. c .. "'")) end
      local v = (num:find("[%.eE]") and tonumber(num)) or math.tointeger(tonumber(num)) or tonumber(num)
      if v == nil then fail("bad number '" .. num .. "'") end
      pos = pos + #num
      return v
    end
  end
  local v = value()
  ws()
  if pos <= #s then fail("unexpected trailing characters") end
  return v
end

json = {
  encode = function(v)
    local out = {}
    encode(v, out, {}, 0)
    return concat(out)
  end,
  decode = decode,
}
