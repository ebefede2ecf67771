-- modules/lighting/scripts/osc_listener.lua
-- Listens to lighting console and updates cue status
-- (The Scripts Specification's example, grown for a show: it starts with the daemon, listens on
-- loopback unless told otherwise, and takes cue numbers as many consoles send them: "5.5" or "5"
-- as strings as well as ints and floats.)

--- The cue a console means by its first OSC argument, or nil and the number as given.
local function cue_for(arg)
    local number = tonumber(arg)
    if number == nil then
        return nil, tostring(arg)
    end
    return core.query_one("table == 'lighting_cues' AND number == ?", number), tostring(arg)
end

function main()
    local port = args.port or 8000
    local socket = core.await(osc.listen(port, { host = args.host or "127.0.0.1" }))

    log.info("OSC listener started on port " .. port)

    while not context.cancelled() do
        local msg = core.await(socket:recv())

        if msg and msg.path == "/cue/fire" then
            local cue, cue_num = cue_for(msg.args[1])

            if cue then
                core.set_field(cue.id, "status", "running")
                core.set_field(cue.id, "fired_at", context.hlc_time())

                ui.navigate.to_entity(cue.id)
                ui.toast("Cue " .. cue_num .. " fired")
            else
                log.warn("Cue not found: " .. cue_num)
            end

        elseif msg and msg.path == "/cue/stop" then
            local cue = cue_for(msg.args[1])

            if cue then
                core.set_field(cue.id, "status", "stopped")
            end
        end
    end
end

function on_shutdown()
    log.info("OSC listener stopped")
end
