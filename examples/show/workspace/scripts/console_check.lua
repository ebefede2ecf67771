-- workspace/scripts/console_check.lua
-- Asks the lighting console's HTTP API (`args.url`) which cue it is on, with a 2 s timeout,
-- and says whether it agrees with the workspace's running cue.

function main()
    local got = core.await(core.race(http.get(args.url), core.sleep(2000)))
    if got.timeout then
        ui.toast.warn("the console did not answer within 2 s")
        return
    end
    local res = got.value
    if res.status ~= 200 then
        ui.toast.warn("the console answered " .. res.status)
        return
    end
    local running = core.query_one("table == 'lighting_cues' AND status == 'running'")
    -- Cue numbers are floats (point cues): %g prints 7 as "7" and 5.5 as "5.5", as consoles do.
    local ours = running and running.number and string.format("%g", running.number) or "none"
    if res.body == ours then
        ui.toast("console and workspace agree: cue " .. ours)
    else
        ui.toast.warn("console is on cue " .. res.body .. ", the workspace on " .. ours)
    end
end
