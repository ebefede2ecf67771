/**
 * The MIDI seam: what the `midi` module needs from a MIDI system. The native implementation
 * (native-midi-port.ts) wraps the optional `midi` package; VirtualMidiPort stands in for
 * devices in tests and on machines without any.
 */

export interface MidiInput {
  /** Each complete MIDI message (status byte first; sysex whole, F0..F7) as it arrives. */
  onMessage(cb: (bytes: number[]) => void): void;
  close(): void;
}

export interface MidiOutput {
  /** Sends one complete MIDI message; throws if the device is gone. */
  send(bytes: number[]): void;
  close(): void;
}

export interface MidiPort {
  /**
   * Why MIDI cannot be used at all on this machine (package missing, no MIDI system), or
   * null when it can. Listing still works (empty) when unavailable; opening throws.
   */
  readonly unavailable: string | null;
  listInputs(): string[];
  listOutputs(): string[];
  /** Throws NetworkError naming the port and the ports that do exist. */
  openInput(name: string): MidiInput;
  openOutput(name: string): MidiOutput;
}
