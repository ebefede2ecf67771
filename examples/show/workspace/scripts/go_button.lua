-- workspace/scripts/go_button.lua
-- A MIDI pad as the GO button: a note on from the pad (`args.input`, default "GO Pad") starts
-- the next cue in standby, and the pad's light (note 0x40 on `args.output`) says it was taken.

function main()
    local input = midi.open_input(args.input or "GO Pad")
    local out = midi.open_output(args.output or "GO Pad Light")
    while not context.cancelled() do
        local e = input:recv()
        if e == nil then break end
        if e.type == "note_on" then
            local cue = core.query_one(
                "table == 'lighting_cues' AND status == 'standby' ORDER BY order_index")
            if cue then
                core.set_field(cue.id, "status", "running")
                core.await(out:send_note(1, 0x40, 127))
            else
                core.await(out:send_note(1, 0x40, 0))
                log.warn("GO pressed with no cue in standby")
            end
        end
    end
end
