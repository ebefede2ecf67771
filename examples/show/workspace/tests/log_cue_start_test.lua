-- Tests of workspace/scripts/log_cue_start.lua (run by the cue_started trigger).
describe("log_cue_start", function()
  it("stamps the cue with the time it started and logs it", function()
    local fx = fixture.load("fixtures/act1.toml")
    local cue = fx.lighting_cues.opening
    -- Time in a test is virtual: five minutes pass at once, and HLC times are the same on every run.
    clock.advance(5 * 60 * 1000)
    local run = script.run("log_cue_start", {}, { context = { trigger_entity = cue } })
    assert.equals("ok", run.status)
    assert.same({ { level = "info", message = "Cue 7 started: House to half" } }, run.logs)
    local fired = workspace.get(cue).fired_at
    assert.truthy(fired)
    assert.equals(clock.now(), tonumber(fired:match("^(%d+)")))
  end)
end)

describe("the cue_started trigger", function()
  it("runs log_cue_start when a cue starts running, and not when it stops", function()
    local fx = fixture.load("fixtures/act1.toml")
    local cue = fx.lighting_cues.preset
    workspace.set(cue, "status", "running")
    local fired = triggers.fired()
    assert.equals(1, #fired)
    assert.equals("cue_started", fired[1].trigger)
    assert.equals("ok", fired[1].status)
    -- autoCommit: the stamp is in canonical at once, no session to review.
    assert.is_nil(fired[1].session)
    assert.truthy(workspace.get(cue).fired_at)
    workspace.set(cue, "status", "stopped")
    assert.equals(1, #triggers.fired())
  end)
end)
