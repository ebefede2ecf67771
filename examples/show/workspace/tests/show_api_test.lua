-- Tests of workspace/scripts/show_api.lua: the tablet's requests are simulated
-- (sim.http.request); no TCP port is opened.
describe("show_api", function()
  local fx, api
  before_each(function()
    fx = fixture.load("fixtures/act1.toml")
    workspace.set(fx.lighting_cues.opening, "status", "running")
    workspace.set(fx.lighting_cues.preset, "status", "standby")
    -- Returns once the server waits for its first request.
    api = script.start("show_api")
  end)
  after_each(function() api:stop() end)

  it("GET /status says which cue runs and which is next", function()
    local res = sim.http.request(8088, { path = "/status" })
    assert.equals(200, res.status)
    assert.equals("application/json", res.headers["content-type"])
    assert.same({ running = "7", next = "3" }, res.json)
  end)

  it("POST /go starts the next cue in standby, and the cue_started trigger stamps it", function()
    local res = sim.http.request(8088, { method = "POST", path = "/go" })
    assert.equals(200, res.status, res.body)
    assert.same({ started = "3" }, res.json)
    assert.equals("running", workspace.get(fx.lighting_cues.preset).status)
    assert.equals("cue_started", triggers.fired()[1].trigger)
    -- Nothing is in standby any more.
    local again = sim.http.request(8088, { method = "POST", path = "/go" })
    assert.equals(409, again.status)
  end)

  it("answers 405 to another method and 404 to another path", function()
    assert.equals(405, sim.http.request(8088, { method = "GET", path = "/go" }).status)
    assert.equals(404, sim.http.request(8088, "/nothing").status)
  end)

  it("a port nobody serves is an error naming it", function()
    assert.error_matches(function() sim.http.request(9999, "/status") end, "no script serves HTTP port 9999")
  end)
end)
