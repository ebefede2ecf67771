-- workspace/scripts/console_watchdog.lua
-- Warns the crew when the lighting console has gone quiet: it listens for the console's OSC
-- (any message, e.g. its /heartbeat) and toasts a warning when nothing came for
-- `args.silence_ms` (default five minutes), once per silence.

function main()
    local port = args.port or 8001
    local silence = args.silence_ms or 300000
    local socket = core.await(osc.listen(port, { host = args.host or "127.0.0.1" }))
    local warned = false
    while not context.cancelled() do
        -- nil after `silence` ms with nothing received (or when the run is stopped).
        local msg = socket:recv(silence)
        if msg then
            if warned then ui.toast("the lighting console is back (" .. msg.path .. ")") end
            warned = false
        elseif not context.cancelled() and not warned then
            ui.toast.warn(("no OSC from the lighting console for %d s"):format(silence // 1000))
            warned = true
        end
    end
end
