-- Tests of modules/lighting/scripts/lightwright_sync.lua against the sample Lightwright export
-- (fixtures/show.lw6.xml, a copy of examples/lightwright/show.lw6.xml). The export is put into
-- the scratch show with sim.fs.write: the real show folder is never written.
describe("lightwright_sync", function()
  before_each(function()
    sim.fs.write("imports/show.lw6.xml", fixture.read("fixtures/show.lw6.xml"))
  end)

  it("creates every fixture (the 40 lights) of the export, in a session to review", function()
    local run = script.run("lighting/lightwright_sync", { path = "imports/show.lw6.xml" })
    assert.equals("ok", run.status)
    assert.equals(40, #run.session.ops)
    assert.truthy(run.session.ops[1]:find("^CreateEntity .* in lighting_fixtures$"), run.session.ops[1])
    assert.same({ { level = "info", message = "Sync complete: 40 created, 0 updated, 0 unchanged, 0 local change(s) kept" } }, run.toasts)
    -- Nothing is in the workspace until the session is committed.
    assert.equals(0, #workspace.query("table == 'lighting_fixtures'"))
    assert.equals("committed", run.session:commit().status)
    assert.equals(40, #workspace.query("table == 'lighting_fixtures'"))
  end)

  it("overwrites channel and dimmer of fixtures already in the rig (a CSV fixture)", function()
    local fx = fixture.load("fixtures/rig.lighting_fixtures.csv")
    local run = script.run("lighting/lightwright_sync", { path = "imports/show.lw6.xml" })
    assert.equals("ok", run.status)
    -- Unit 1 already matches the paperwork; unit 2 was repatched: the paperwork wins (the rig has
    -- no record of an earlier sync, so its values are not local changes to keep).
    local repatched = false
    for _, op in ipairs(run.session.ops) do
      if op:find("SetField lighting_fixtures.boom_sl channel = 2", 1, true) then repatched = true end
    end
    assert.truthy(repatched, table.concat(run.session.ops, "\n"))
    assert.same({ { level = "info", message = "Sync complete: 38 created, 1 updated, 1 unchanged, 0 local change(s) kept" } }, run.toasts)
    run.session:commit()
    assert.equals(2, workspace.get(fx.lighting_fixtures.boom_sl).channel)
    assert.equals("101", workspace.get(fx.lighting_fixtures.boom_sl).dimmer)
  end)

  it("fails with the path named when the export is missing", function()
    sim.fs.remove("imports/show.lw6.xml")
    local run = script.run("lighting/lightwright_sync", { path = "imports/show.lw6.xml" })
    assert.equals("error", run.status)
    assert.truthy(run.error.message:find("imports/show.lw6.xml", 1, true), run.error.message)
  end)
end)
