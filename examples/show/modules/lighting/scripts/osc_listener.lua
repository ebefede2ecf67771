-- modules/lighting/scripts/osc_listener.lua
-- Listens to lighting console and updates cue status

function main()
    local port = args.port or 8000
    local socket = core.await(osc.listen(port))

    log.info("OSC listener started on port " .. port)

    while not context.cancelled() do
        local msg = core.await(socket:recv())

        if msg.path == "/cue/fire" then
            local cue_num = msg.args[1]
            local cue = core.query_one(
                "table == 'lighting_cues' AND number == ?",
                cue_num
            )

            if cue then
                core.set_field(cue.id, "status", "running")
                core.set_field(cue.id, "fired_at", context.hlc_time())

                ui.navigate.to_entity(cue.id)
                ui.toast("Cue " .. cue_num .. " fired")
            else
                log.warn("Cue not found: " .. cue_num)
            end

        elseif msg.path == "/cue/stop" then
            local cue_num = msg.args[1]
            local cue = core.query_one(
                "table == 'lighting_cues' AND number == ?",
                cue_num
            )

            if cue then
                core.set_field(cue.id, "status", "stopped")
            end
        end
    end
end

function on_shutdown()
    log.info("OSC listener stopped")
end
