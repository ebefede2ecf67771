-- What happens when someone at another peer edits while a script's session is open, or at the
-- same moment as this peer: sim.peer is a second store with its own Automerge actor, merged
-- in by the real sync protocol.
describe("renumber_cues with a concurrent edit at another peer", function()
  local fx
  before_each(function() fx = fixture.load("fixtures/act1.toml") end)

  it("the session's commit meets a conflict on the cue the other peer renumbered", function()
    local run = script.run("renumber_cues", { scene_id = fx.scenes.act1 })
    sim.peer.edit(fx.lighting_cues.opening, "number", 70)
    local out = run.session:commit()
    assert.equals("conflicts", out.status)
    assert.equals(1, #out.conflicts)
    local c = out.conflicts[1]
    assert.equals(fx.lighting_cues.opening, c.entity)
    assert.same({ snapshot = 7, canonical = 70, script = 1 }, { snapshot = c.snapshotValue, canonical = c.canonicalValue, script = c.scriptValue })
    assert.equals("peer-sim", c.changedBy.peer)
  end)

  it("two peers writing a label at once: one value wins, the other is kept as a conflict", function()
    sim.peer.sync()
    workspace.set(fx.lighting_cues.opening, "label", "House out")
    sim.peer.edit(fx.lighting_cues.opening, "label", "Preshow")
    local conflicts = workspace.conflicts().fields
    assert.equals(1, #conflicts)
    assert.equals("concurrent", conflicts[1].kind)
    assert.equals(2, #conflicts[1].values)
    -- Both peers see the same winner.
    assert.equals(sim.peer.get(fx.lighting_cues.opening).label, workspace.get(fx.lighting_cues.opening).label)
  end)
end)
