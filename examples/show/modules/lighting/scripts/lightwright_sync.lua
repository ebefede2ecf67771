-- modules/lighting/scripts/lightwright_sync.lua
-- One-way import from the Lightwright paperwork
-- (The Scripts Specification's example, grown for a show: it remembers what the paperwork said
-- last time, so a channel or dimmer changed here since is a deliberate local change. It asks
-- before overwriting one, and a change you chose to keep is listed in the fixture's keep_local
-- and left alone by every later sync.)

local SYNCED = { "channel", "dimmer" }

local function kept(fixture, field)
    for _, f in ipairs(fixture.keep_local or {}) do
        if f == field then return true end
    end
    return false
end

local function name_of(fixture)
    return (fixture.position or "?") .. " #" .. fixture.unit_number
end

function main()
    local lw_path = args.path

    -- Parse Lightwright file (native capability)
    local lw_data = core.await(lightwright.parse(lw_path))

    ui.progress.start("Syncing fixtures", { total = #lw_data.fixtures })

    local created, updated, unchanged, kept_count = 0, 0, 0, 0
    -- Local changes not yet kept: asked about once, all together, before anything overwrites them.
    local local_changes = {}

    for i, lw_fixture in ipairs(lw_data.fixtures) do
        local existing = core.query_one(
            "table == 'lighting_fixtures' AND unit_number == ?",
            lw_fixture.unit_number
        )

        if existing then
            local changed, asked = false, false

            for _, field in ipairs(SYNCED) do
                local paper, here, last = lw_fixture[field], existing[field], existing["lw_" .. field]
                if here ~= paper then
                    if kept(existing, field) then
                        kept_count = kept_count + 1
                    elseif last ~= nil and here ~= last then
                        table.insert(local_changes, { fixture = existing, field = field, here = here, paper = paper })
                        asked = true
                    else
                        core.set_field(existing.id, field, paper)
                        changed = true
                    end
                end
                if last ~= paper then
                    core.set_field(existing.id, "lw_" .. field, paper)
                end
            end

            if changed then
                updated = updated + 1
            elseif not asked then
                unchanged = unchanged + 1
            end
        else
            core.create_entity({
                table = "lighting_fixtures",
                fields = {
                    unit_number = lw_fixture.unit_number,
                    channel = lw_fixture.channel,
                    dimmer = lw_fixture.dimmer,
                    fixture_type = lw_fixture.instrument_type,
                    position = lw_fixture.position,
                    lw_channel = lw_fixture.channel,
                    lw_dimmer = lw_fixture.dimmer
                }
            })
            created = created + 1
        end

        ui.progress.update(i)
    end

    ui.progress.complete()

    if #local_changes > 0 then
        local lines = {}
        for _, c in ipairs(local_changes) do
            table.insert(lines, string.format("%s %s: %s here, %s in the paperwork",
                name_of(c.fixture), c.field, tostring(c.here), tostring(c.paper)))
        end
        local choice = core.await(ui.dialog.select(
            #local_changes .. " value(s) were changed here since the last sync and differ from the paperwork: "
                .. table.concat(lines, "; ") .. ". Overwrite them with the paperwork, or keep them (later syncs keep them too)?",
            { "keep", "overwrite" }
        ))
        for _, c in ipairs(local_changes) do
            if choice == "overwrite" then
                core.set_field(c.fixture.id, c.field, c.paper)
                updated = updated + 1
                log.info(string.format("overwrote %s %s: %s → %s", name_of(c.fixture), c.field, tostring(c.here), tostring(c.paper)))
            else
                local keep = c.fixture.keep_local or {}
                if not kept(c.fixture, c.field) then table.insert(keep, c.field) end
                c.fixture.keep_local = keep
                core.set_field(c.fixture.id, "keep_local", keep)
                kept_count = kept_count + 1
                unchanged = unchanged + 1
                log.info(string.format("kept %s %s = %s (the paperwork says %s)", name_of(c.fixture), c.field, tostring(c.here), tostring(c.paper)))
            end
        end
    end

    local msg = string.format(
        "Sync complete: %d created, %d updated, %d unchanged, %d local change(s) kept",
        created, updated, unchanged, kept_count
    )
    ui.toast(msg)
    log.info(msg)
end
