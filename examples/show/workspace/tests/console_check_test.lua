-- Tests of workspace/scripts/console_check.lua: the console's HTTP API is simulated
-- (sim.http.respond); its 2 s timeout is virtual time.
describe("console_check", function()
  local URL = "http://console.local/api/cue"
  local fx
  before_each(function()
    fx = fixture.load("fixtures/act1.toml")
    workspace.set(fx.lighting_cues.opening, "status", "running")
  end)

  it("agrees when the console is on the running cue", function()
    sim.http.respond(URL, "7")
    local run = script.run("console_check", { url = URL })
    assert.same({ { level = "info", message = "console and workspace agree: cue 7" } }, run.toasts)
    assert.equals("GET", sim.http.requests()[1].method)
  end)

  it("warns when they differ", function()
    sim.http.respond("http://console.local/*", { status = 200, body = "12" })
    local run = script.run("console_check", { url = URL })
    assert.same({ { level = "warn", message = "console is on cue 12, the workspace on 7" } }, run.toasts)
  end)

  it("gives up after 2 s when the console is slow (and takes no real time)", function()
    sim.http.respond(URL, { body = "7", delay = 10000 })
    local t0 = clock.now()
    local run = script.run("console_check", { url = URL })
    assert.same({ { level = "warn", message = "the console did not answer within 2 s" } }, run.toasts)
    assert.equals(t0 + 2000, clock.now())
  end)

  it("a stubbed function answers for the real one", function()
    script.stub("core.query_one", { number = 12 })
    sim.http.respond(URL, "12")
    local run = script.run("console_check", { url = URL })
    assert.same({ { level = "info", message = "console and workspace agree: cue 12" } }, run.toasts)
  end)
end)
