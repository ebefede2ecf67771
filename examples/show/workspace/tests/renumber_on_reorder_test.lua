-- The renumber_on_reorder trigger: moving a cue renumbers its scene, in a session to review.
describe("renumber_on_reorder", function()
  local fx

  before_each(function()
    -- Loading a fixture does not fire triggers: it is where the test starts from.
    fx = fixture.load("fixtures/act1.toml")
  end)

  it("renumbers the scene when a cue is moved", function()
    -- Move the blackout to the top, as a person dragging it in the cue list would.
    workspace.set(fx.lighting_cues.blackout, "order_index", 0.5)
    local fired = triggers.fired()
    assert.equals(1, #fired)
    assert.equals("renumber_on_reorder", fired[1].trigger)
    assert.equals("renumber_cues", fired[1].script)
    assert.equals(fx.lighting_cues.blackout, fired[1].entity)
    assert.equals("order_index", fired[1].field)
    assert.same({ scene_id = fx.scenes.act1 }, fired[1].args)
    assert.equals("ok", fired[1].status)
    assert.same({
      "SetField lighting_cues.blackout number = 1",
      "SetField lighting_cues.opening number = 2",
      "SetField lighting_cues.preset number = 3",
    }, fired[1].session.ops)
    fired[1].session:commit()
    assert.equals(1, workspace.get(fx.lighting_cues.blackout).number)
  end)

  it("does not fire when only a label changes", function()
    workspace.set(fx.lighting_cues.preset, "label", "Preset (slow)")
    assert.same({}, triggers.fired())
  end)
end)
