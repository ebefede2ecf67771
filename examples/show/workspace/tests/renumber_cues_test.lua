-- Tests of workspace/scripts/renumber_cues.lua, run with `openprod test`.
describe("renumber_cues", function()
  local fx

  before_each(function()
    fx = fixture.load("fixtures/act1.toml")
  end)

  it("numbers a scene's cues 1, 2, 3 in their order", function()
    local run = script.run("renumber_cues", { scene_id = fx.scenes.act1 })
    assert.equals("ok", run.status)
    assert.same({
      "SetField lighting_cues.opening number = 1",
      "SetField lighting_cues.preset number = 2",
      "SetField lighting_cues.blackout number = 3",
    }, run.session.ops)
    assert.same({ { level = "info", message = "3 cues renumbered" } }, run.toasts)
  end)

  it("changes nothing until its session is committed", function()
    local run = script.run("renumber_cues", { scene_id = fx.scenes.act1 })
    assert.equals(7, workspace.get(fx.lighting_cues.opening).number)
    run.session:commit()
    assert.equals(1, workspace.get(fx.lighting_cues.opening).number)
    assert.equals(3, workspace.get(fx.lighting_cues.blackout).number)
  end)

  it("warns when the scene has no cues", function()
    local empty = script.run("renumber_cues", { scene_id = "no-such-scene" })
    assert.equals("ok", empty.status)
    assert.equals("No cues found in scene", empty.toasts[1].message)
    assert.equals("warn", empty.toasts[1].level)
  end)
end)
