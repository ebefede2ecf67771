-- Tests of workspace/scripts/auto_follow.lua. Time is virtual: a five-minute follow takes no
-- real time, and clock.advance moves it step by step.
describe("auto_follow", function()
  local fx
  before_each(function()
    fx = fixture.load("fixtures/act1.toml")
    workspace.set(fx.lighting_cues.opening, "status", "running")
  end)

  it("starts the next cue five minutes later (script.run waits the five minutes at once)", function()
    local t0 = clock.now()
    local run = script.run("auto_follow", { cue = fx.lighting_cues.opening, wait_ms = 5 * 60 * 1000 })
    assert.equals("ok", run.status)
    assert.equals(t0 + 5 * 60 * 1000, clock.now())
    assert.equals("running", workspace.get(fx.lighting_cues.preset).status)
  end)

  it("waits until its time has come (clock.advance)", function()
    local follow = script.start("auto_follow", { cue = fx.lighting_cues.opening, wait_ms = 5 * 60 * 1000 })
    assert.equals(1, clock.sleeping())
    clock.advance(4 * 60 * 1000)
    assert.is_nil(workspace.get(fx.lighting_cues.preset).status)
    clock.advance(60 * 1000)
    assert.equals("running", workspace.get(fx.lighting_cues.preset).status)
    assert.equals("ok", follow:wait().status)
    -- The cue it started ran the cue_started trigger, which stamped it with the virtual time.
    assert.truthy(workspace.get(fx.lighting_cues.preset).fired_at)
  end)

  it("does not follow a cue stopped meanwhile", function()
    local follow = script.start("auto_follow", { cue = fx.lighting_cues.opening, wait_ms = 30000 })
    workspace.set(fx.lighting_cues.opening, "status", "stopped")
    clock.advance(30000)
    local out = follow:wait()
    assert.same({ { level = "info", message = "auto-follow of 7 cancelled" } }, out.logs)
    assert.is_nil(workspace.get(fx.lighting_cues.preset).status)
  end)
end)
