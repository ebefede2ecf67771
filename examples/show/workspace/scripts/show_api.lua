-- workspace/scripts/show_api.lua
-- A small HTTP API for a console macro or the stage manager's tablet (loopback unless told
-- otherwise):
--   GET  /status  which cue is running and which is next in standby, as JSON
--   POST /go      starts the next cue in standby (409 when nothing is in standby)
-- Anything else is 404; another method on a known path is 405.

local function number_of(cue)
    -- Cue numbers are floats (point cues): %g gives 7 as "7" and 5.5 as "5.5".
    return cue and cue.number and string.format("%g", cue.number) or nil
end

local function next_in_standby()
    return core.query_one("table == 'lighting_cues' AND status == 'standby' ORDER BY order_index")
end

local function status()
    local running = core.query_one("table == 'lighting_cues' AND status == 'running' ORDER BY order_index")
    return 200, json.encode({ running = number_of(running), next = number_of(next_in_standby()) })
end

local function go()
    local cue = next_in_standby()
    if cue == nil then
        return 409, json.encode({ error = "no cue in standby" })
    end
    core.set_field(cue.id, "status", "running")
    log.info("GO from " .. tostring(args.name or "the API") .. ": cue " .. number_of(cue))
    return 200, json.encode({ started = number_of(cue) })
end

local routes = { ["/status"] = { GET = status }, ["/go"] = { POST = go } }

function main()
    local server = core.await(http.serve(args.port or 8088, { host = args.host or "127.0.0.1" }))
    log.info("show API listening on port " .. server.port)
    while not context.cancelled() do
        local req = server:accept()
        if req == nil then break end
        local route = routes[req.path]
        if route == nil then
            req:respond(404, "no such endpoint: " .. req.path)
        elseif route[req.method] == nil then
            req:respond(405, req.method .. " is not allowed on " .. req.path)
        else
            local code, body = route[req.method]()
            req:respond(code, body, { ["content-type"] = "application/json" })
        end
    end
end
