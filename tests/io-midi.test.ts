import { afterAll, describe, expect, it } from "vitest";
import { VirtualMidiPort, createNativeMidiPort } from "../daemon/scripts/io/index.ts";
import { ioKit } from "./fixtures/io-kit/io-run.ts";
import { until } from "./fixtures/io-kit/ports.ts";

const kit = ioKit();
afterAll(() => kit.close());
const MIDI = ["net.midi"];

describe("a script reads a MIDI controller", () => {
  it("decodes every kind of event, queued until recv()", async () => {
    const port = new VirtualMidiPort({ inputs: ["Faders"], outputs: [] });
    const run = kit.start(`
      local function flat(e)
        local keys = {}
        for k in pairs(e) do keys[#keys + 1] = k end
        table.sort(keys)
        local out = {}
        for _, k in ipairs(keys) do
          local v = e[k]
          if type(v) == "table" then v = table.concat(v, ",") end
          out[#out + 1] = k .. "=" .. tostring(v)
        end
        return table.concat(out, " ")
      end
      local input = core.await(midi.open_input("Faders"))
      log.info("ready")
      for i = 1, 9 do log.info(flat(core.await(input:recv()))) end`, { capabilities: MIDI, midi: port });
    await until(() => run.logs.some((l) => l[0] === "ready"), 5000, "input");
    for (const bytes of [
      [0x90, 60, 127], [0x80, 60, 64], [0x91, 61, 0], [0xb2, 20, 99], [0xc3, 5], [0xe0, 0x00, 0x40], [0xef, 0x7f, 0x7f], [0xf0, 0x7e, 0x01, 0xf7], [0xad, 40, 11],
    ]) port.play("Faders", bytes);
    const o = await run.done;
    expect(o.error).toBeUndefined();
    expect(run.logs.slice(1).map((l) => l[0])).toEqual([
      "channel=1 note=60 type=note_on velocity=127",
      "channel=1 note=60 type=note_off velocity=64",
      "channel=2 note=61 type=note_off velocity=0",
      "cc=20 channel=3 type=control_change value=99",
      "channel=4 program=5 type=program_change",
      "channel=1 type=pitch_bend value=0",
      "channel=16 type=pitch_bend value=8191",
      "bytes=240,126,1,247 type=sysex",
      "channel=14 note=40 type=poly_aftertouch value=11",
    ]);
    expect(run.records).toHaveLength(9);
    expect(run.records[0]).toEqual({ kind: "midi.message", data: { port: "Faders", type: "note_on", channel: 1, note: 60, velocity: 127 } });
    expect(port.openCount("Faders")).toBe(0); // closed when the run ended
  });

  it("names the ports that exist when asked for one that does not", async () => {
    const port = new VirtualMidiPort({ inputs: ["Faders", "Pads"], outputs: [] });
    const run = kit.start(`
      local ok, e = pcall(midi.open_input, "Keys")
      log.info(ok, e.type, e.message)`, { capabilities: MIDI, midi: port });
    expect((await run.done).error).toBeUndefined();
    expect(run.logs[0]).toEqual([false, "NetworkError", 'no MIDI input named "Keys" (available inputs: "Faders", "Pads")']);
  });
});

describe("a script plays MIDI to a device", () => {
  it("send_note, send_cc, send_program and friends produce the right bytes", async () => {
    const port = new VirtualMidiPort({ inputs: [], outputs: ["Synth", "Desk"] });
    const run = kit.start(`
      core.await(midi.send_note(1, 60, 127))          -- default output: the first listed
      local desk = core.await(midi.open_output("Desk"))
      core.await(midi.send_cc(16, 7, 100))            -- now the last opened
      core.await(desk:send_program(2, 12))
      core.await(desk:send_note_off(3, 64))
      core.await(desk:send_pitch_bend(1, -8192))
      core.await(desk:send({ 0xF0, 0x7D, 0x01, 0xF7 }))
      local ok, e = pcall(function() return core.await(midi.send_note(17, 60, 1)) end)
      log.info(ok, e.type, e.message)`, { capabilities: MIDI, midi: port });
    expect((await run.done).error).toBeUndefined();
    expect(port.sent("Synth")).toEqual([[0x90, 60, 127]]);
    expect(port.sent("Desk")).toEqual([[0xbf, 7, 100], [0xc1, 12], [0x82, 64, 0], [0xe0, 0, 0], [0xf0, 0x7d, 0x01, 0xf7]]);
    expect(run.logs[0]).toEqual([false, "InvalidOperation", "midi.send_note: channel must be an integer 1-16, got 17"]);
  });
});

describe("MIDI without the native package or devices", () => {
  it("still loads, list_ports says why, and opening says so clearly", async () => {
    const absent = await createNativeMidiPort(() => Promise.reject(new Error("Cannot find package 'midi'")));
    const run = kit.start(`
      local p = midi.list_ports()
      log.info(#p.inputs, #p.outputs, p.available, p.reason)
      local ok, e = pcall(midi.open_output, "Synth")
      log.info(ok, e.type, e.message)
      local ok2, e2 = pcall(function() return core.await(midi.send_note(1, 60, 1)) end)
      log.info(ok2, e2.type)`, { capabilities: MIDI, midi: absent });
    expect((await run.done).error).toBeUndefined();
    expect(run.logs[0].slice(0, 3)).toEqual([0, 0, false]);
    expect(run.logs[0][3]).toMatch(/optional "midi" package could not be loaded \(Cannot find package 'midi'\); install it/);
    expect(run.logs[1][1]).toBe("NetworkError");
    expect(run.logs[1][2]).toMatch(/^MIDI output "Synth" cannot be opened: the optional "midi" package/);
    expect(run.logs[2]).toEqual([false, "NetworkError"]);
  });

  it("the real package on a machine without MIDI devices lists none", async () => {
    const real = await createNativeMidiPort();
    const run = kit.start(`
      local p = midi.list_ports()
      log.info(#p.inputs, #p.outputs, p.reason)`, { capabilities: MIDI, midi: real });
    expect((await run.done).error).toBeUndefined();
    // whether or not the package is installed, there are no devices on this machine
    expect(run.logs[0].slice(0, 2)).toEqual([0, 0]);
    expect(typeof run.logs[0][2]).toBe("string");
  });

  it("refuses MIDI to a script without net.midi", async () => {
    const run = kit.start(`local ok, e = pcall(midi.list_ports) log.info(ok, e.type, e.message)`, { capabilities: [] });
    expect((await run.done).error).toBeUndefined();
    expect(run.logs[0]).toEqual([false, "PermissionDenied", 'using MIDI needs capability "net.midi"']);
  });
});
