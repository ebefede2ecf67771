-- workspace/scripts/log_cue_start.lua
-- Run by the cue_started trigger when a cue's status becomes "running":
-- stamps when it fired and logs it

function main()
    local cue_id = context.trigger_entity()
    local number = core.get_field(cue_id, "number")
    local label = core.get_field(cue_id, "label")

    core.set_field(cue_id, "fired_at", context.hlc_time())

    -- Cue numbers are floats (point cues): %g prints 12 as "12" and 5.5 as "5.5".
    log.info(string.format("Cue %s started%s", number and string.format("%g", number) or "?",
        label and (": " .. label) or ""))
end
