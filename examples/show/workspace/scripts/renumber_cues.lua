-- workspace/scripts/renumber_cues.lua
-- Renumbers cues in a scene sequentially

function main()
    local scene_id = args.scene_id

    -- Query cues in the lighting cues table, ordered by position
    local cues = core.query(
        "table == 'lighting_cues' AND scene == ? ORDER BY order_index",
        scene_id
    )

    if #cues == 0 then
        ui.toast.warn("No cues found in scene")
        return
    end

    ui.progress.start("Renumbering cues", { total = #cues })

    for i, cue in ipairs(cues) do
        core.set_field(cue.id, "number", i)
        ui.progress.update(i)

        if i % 10 == 0 then
            log.debug("Renumbered " .. i .. " cues")
        end
    end

    ui.progress.complete()
    ui.toast(#cues .. " cues renumbered")

    -- Session mode: user reviews and commits
    -- AutoCommit mode: already committed
end
