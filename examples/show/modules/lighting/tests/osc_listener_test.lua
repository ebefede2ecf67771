-- Tests of modules/lighting/scripts/osc_listener.lua: the console's OSC messages are simulated
-- (sim.osc.send); no UDP port is opened.
describe("osc_listener", function()
  local fx, listener

  before_each(function()
    fx = fixture.load("../../../workspace/tests/fixtures/act1.toml")
    -- Returns once the listener waits for its first message.
    listener = script.start("lighting/osc_listener", { port = 8000 })
  end)

  after_each(function()
    listener:stop()
  end)

  it("marks a cue running when the console fires it, and stamps when", function()
    sim.osc.send(8000, "/cue/fire", { 7 })
    local cue = workspace.get(fx.lighting_cues.opening)
    assert.equals("running", cue.status)
    assert.truthy(cue.fired_at)
  end)

  it("marks it stopped on /cue/stop", function()
    sim.osc.send(8000, "/cue/fire", { 3 })
    sim.osc.send(8000, "/cue/stop", { 3 })
    assert.equals("stopped", workspace.get(fx.lighting_cues.preset).status)
  end)

  it("starting a cue runs the cue_started trigger (log_cue_start)", function()
    sim.osc.send(8000, "/cue/fire", { 12 })
    local fired = triggers.fired()
    assert.equals(1, #fired)
    assert.equals("cue_started", fired[1].trigger)
    assert.equals("ok", fired[1].status)
  end)

  it("ignores a cue number it does not know, and says so in its log", function()
    sim.osc.send(8000, "/cue/fire", { 99 })
    local out = listener:stop()
    assert.equals("cancelled", out.status)
    local warned = false
    for _, l in ipairs(out.logs) do if l.message == "Cue not found: 99" then warned = true end end
    assert.is_true(warned)
    assert.is_nil(workspace.get(fx.lighting_cues.opening).status)
    listener = script.start("lighting/osc_listener", { port = 8000 })
  end)
end)
