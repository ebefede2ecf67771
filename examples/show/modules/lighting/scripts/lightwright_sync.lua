-- modules/lighting/scripts/lightwright_sync.lua
-- Bidirectional sync with Lightwright XML

function main()
    local lw_path = args.path

    -- Parse Lightwright file (native Rust capability)
    local lw_data = core.await(lightwright.parse(lw_path))

    ui.progress.start("Syncing fixtures", { total = #lw_data.fixtures })

    local created, updated, unchanged = 0, 0, 0

    for i, lw_fixture in ipairs(lw_data.fixtures) do
        local existing = core.query_one(
            "table == 'lighting_fixtures' AND unit_number == ?",
            lw_fixture.unit_number
        )

        if existing then
            -- Check for changes
            local changed = false

            if existing.channel ~= lw_fixture.channel then
                core.set_field(existing.id, "channel", lw_fixture.channel)
                changed = true
            end

            if existing.dimmer ~= lw_fixture.dimmer then
                core.set_field(existing.id, "dimmer", lw_fixture.dimmer)
                changed = true
            end

            if changed then
                updated = updated + 1
            else
                unchanged = unchanged + 1
            end
        else
            -- Create new fixture
            core.create_entity({
                table = "lighting_fixtures",
                fields = {
                    unit_number = lw_fixture.unit_number,
                    channel = lw_fixture.channel,
                    dimmer = lw_fixture.dimmer,
                    fixture_type = lw_fixture.instrument_type,
                    position = lw_fixture.position
                }
            })
            created = created + 1
        end

        ui.progress.update(i)
    end

    ui.progress.complete()

    local msg = string.format(
        "Sync complete: %d created, %d updated, %d unchanged",
        created, updated, unchanged
    )
    ui.toast(msg)
    log.info(msg)
end

-- Background file watcher version (Post-v1: background scripts deferred)
-- function watch()
--     local lw_path = args.path
--     local watcher = core.await(fs.watch(lw_path))
--
--     log.info("Watching Lightwright file: " .. lw_path)
--
--     while not context.cancelled() do
--         local event = core.await(watcher:next())
--
--         if event.type == "modified" then
--             log.info("Lightwright file changed, syncing...")
--             main()
--         end
--     end
-- end
--
-- function on_shutdown()
--     log.info("File watcher stopped")
-- end
