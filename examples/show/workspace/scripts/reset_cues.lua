-- workspace/scripts/reset_cues.lua
-- Puts every cue back in standby before a run of the show, once the operator confirmed.

function main()
    local cues = core.query("table == 'lighting_cues' ORDER BY order_index")
    local yes = core.await(ui.dialog.confirm("Put " .. #cues .. " cues back in standby?"))
    if not yes then
        ui.toast("cues left as they are")
        return
    end
    for _, c in ipairs(cues) do core.set_field(c.id, "status", "standby") end
    ui.toast(#cues .. " cues in standby")
end
