-- Tests of workspace/scripts/go_button.lua: the MIDI pad is simulated (sim.midi); no device
-- is opened.
describe("go_button", function()
  local fx, pad
  before_each(function()
    fx = fixture.load("fixtures/act1.toml")
    workspace.set(fx.lighting_cues.preset, "status", "standby")
    pad = script.start("go_button")
  end)
  after_each(function() pad:stop() end)

  it("a press starts the next cue in standby and lights the pad", function()
    sim.midi.input("GO Pad"):note_on(1, 36, 100)
    assert.equals("running", workspace.get(fx.lighting_cues.preset).status)
    assert.same({ { 0x90, 0x40, 127 } }, sim.midi.sent("GO Pad Light"))
  end)

  it("a release does nothing; a press with nothing in standby darkens the pad and warns", function()
    sim.midi.input("GO Pad"):note_on(1, 36, 100):note_off(1, 36)
    sim.midi.input("GO Pad"):note_on(1, 36, 100)
    assert.same({ { 0x90, 0x40, 127 }, { 0x90, 0x40, 0 } }, sim.midi.sent("GO Pad Light"))
    local out = pad:stop()
    assert.same({ level = "warn", message = "GO pressed with no cue in standby" }, out.logs[#out.logs])
    pad = script.start("go_button")
  end)

  it("a spy sees the writes of every script: the pad's, then the cue_started trigger's", function()
    -- A spy covers the runs started after it: the pad is started again.
    pad:stop()
    local writes = script.spy("core.set_field")
    pad = script.start("go_button")
    sim.midi.input("GO Pad"):note_on(1, 36, 100)
    assert.spy(writes).was_called(2)
    assert.spy(writes).was_called_with(fx.lighting_cues.preset, "status", "running")
    assert.equals("fired_at", writes.calls[2][2])
  end)
end)
