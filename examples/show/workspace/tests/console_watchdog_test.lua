-- Tests of workspace/scripts/console_watchdog.lua: its five-minute recv timeout runs on the
-- test's virtual clock (clock.advance), so the test takes no real time.
describe("console_watchdog", function()
  local dog
  before_each(function() dog = script.start("console_watchdog") end)

  it("warns once after five minutes of silence, and says when the console is back", function()
    clock.advance(299999)
    sim.osc.send(8001, "/heartbeat", {})
    -- The heartbeat started the five minutes again.
    clock.advance(299999)
    clock.advance(1)
    -- Still silent: no second warning.
    clock.advance(600000)
    sim.osc.send(8001, "/heartbeat", {})
    local out = dog:stop()
    assert.same({
      { level = "warn", message = "no OSC from the lighting console for 300 s" },
      { level = "info", message = "the lighting console is back (/heartbeat)" },
    }, out.toasts)
  end)

  it("stays quiet while the console talks", function()
    for _ = 1, 10 do
      clock.advance(60000)
      sim.osc.send(8001, "/heartbeat", {})
    end
    assert.same({}, dog:stop().toasts)
  end)
end)
