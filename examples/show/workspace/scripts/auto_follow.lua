-- workspace/scripts/auto_follow.lua
-- An auto-follow: waits `wait_ms` after args.cue started, then starts the next cue of the
-- running order (the cue_started trigger then stamps it). A cue stopped meanwhile is not
-- followed.

-- Cue numbers are floats (point cues): %g prints 7 as "7" and 5.5 as "5.5".
local function cue_number(cue)
    local n = core.get_field(cue, "number")
    return n and string.format("%g", n) or "?"
end

function main()
    local cue = args.cue
    core.await(core.sleep(args.wait_ms))
    if context.cancelled() or core.get_field(cue, "status") ~= "running" then
        log.info("auto-follow of " .. cue_number(cue) .. " cancelled")
        return
    end
    local order = core.get_field(cue, "order_index")
    local next_cue = core.query_one(
        "table == 'lighting_cues' AND order_index > ? ORDER BY order_index", order)
    if next_cue == nil then
        log.info("auto-follow: no cue after " .. cue_number(cue))
        return
    end
    core.set_field(next_cue.id, "status", "running")
end
