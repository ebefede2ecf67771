/**
 * MIDI bytes ↔ the event tables scripts see. Channels are 1-16 as printed on consoles;
 * notes, velocities, controller numbers, values and programs are the raw 0-127 numbers.
 */
import { InvalidOperation } from "../../crdt/vocabulary.ts";
import type { HostValue } from "../engine/index.ts";

export type MidiEvent = { [k: string]: HostValue };

export function decodeMidi(bytes: number[]): MidiEvent {
  const status = bytes[0] ?? 0;
  const kind = status & 0xf0;
  const channel = (status & 0x0f) + 1;
  const d1 = bytes[1] ?? 0;
  const d2 = bytes[2] ?? 0;
  switch (kind) {
    case 0x80:
      return { type: "note_off", channel, note: d1, velocity: d2 };
    case 0x90:
      // Note-on with velocity 0 is how most devices say note-off (running status saves a byte).
      return d2 === 0 ? { type: "note_off", channel, note: d1, velocity: 0 } : { type: "note_on", channel, note: d1, velocity: d2 };
    case 0xa0:
      return { type: "poly_aftertouch", channel, note: d1, value: d2 };
    case 0xb0:
      return { type: "control_change", channel, cc: d1, value: d2 };
    case 0xc0:
      return { type: "program_change", channel, program: d1 };
    case 0xd0:
      return { type: "channel_aftertouch", channel, value: d1 };
    case 0xe0:
      return { type: "pitch_bend", channel, value: ((d2 << 7) | d1) - 8192 };
  }
  if (status === 0xf0) return { type: "sysex", bytes: [...bytes] };
  return { type: "system", status, bytes: [...bytes] };
}

/** What `send_*` asks for, as bytes. Out-of-range numbers are refused, naming the argument. */
export function encodeMidi(kind: string, a: HostValue, b: HostValue, c: HostValue, call: string): number[] {
  const num = (v: HostValue, what: string, lo: number, hi: number): number => {
    if (typeof v !== "number" || !Number.isInteger(v) || v < lo || v > hi) {
      throw new InvalidOperation(`${call}: ${what} must be an integer ${lo}-${hi}, got ${JSON.stringify(v ?? null)}`, { [what]: typeof v === "number" ? v : null });
    }
    return v;
  };
  const ch = (): number => num(a, "channel", 1, 16) - 1;
  switch (kind) {
    case "note":
      return [0x90 | ch(), num(b, "note", 0, 127), num(c, "velocity", 0, 127)];
    case "note_off":
      return [0x80 | ch(), num(b, "note", 0, 127), c === null || c === undefined ? 0 : num(c, "velocity", 0, 127)];
    case "cc":
      return [0xb0 | ch(), num(b, "controller", 0, 127), num(c, "value", 0, 127)];
    case "program":
      return [0xc0 | ch(), num(b, "program", 0, 127)];
    case "pitch_bend": {
      const v = num(b, "value", -8192, 8191) + 8192;
      return [0xe0 | ch(), v & 0x7f, v >> 7];
    }
    case "raw": {
      if (!Array.isArray(a) || a.length === 0) throw new InvalidOperation(`${call}: expects a list of bytes like { 0x90, 60, 127 }`, {});
      const bytes = a.map((x, i) => num(x, `byte ${i + 1}`, 0, 255));
      if (bytes[0] < 0x80) throw new InvalidOperation(`${call}: the first byte must be a status byte (0x80-0xFF), got ${bytes[0]}`, {});
      return bytes;
    }
    default:
      throw new InvalidOperation(`${call}: unknown MIDI message kind "${kind}"`, {});
  }
}
