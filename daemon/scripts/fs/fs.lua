-- fs prelude: gives watchers their Lua face over the raw handle bindings. fs.watch(path)
-- returns the watcher itself, so `core.await(fs.watch(p))` and `fs.watch(p)` both give it
-- (core.await passes non-futures through). Self-contained do-block: safe to concatenate.
do
  local raw = __fs
  __fs = nil
  if raw ~= nil and raw.watch ~= nil then
    local start, next_event, close = raw.watch, raw.next, raw.close
    local setmetatable, error = setmetatable, error
    local ids = setmetatable({}, { __mode = "k" })
    local Watcher = { __metatable = false }
    Watcher.__index = {
      -- A future of the next event ({ type = "created"|"modified"|"deleted", path = ... }),
      -- or of nil once the watcher is closed.
      next = function(self)
        local id = ids[self]
        if id == nil then error("watcher:next(): call it with a colon, watcher:next()", 2) end
        return next_event(id)
      end,
      close = function(self)
        local id = ids[self]
        if id ~= nil then close(id) end
      end,
    }
    if fs == nil then fs = {} end
    fs.watch = function(path)
      local w = setmetatable({ path = path }, Watcher)
      ids[w] = start(path)
      return w
    end
  end
end
