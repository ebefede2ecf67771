/**
 * The MIDI seam over the optional native `midi` package (RtMidi). Loaded on demand: when the
 * package is missing or the machine has no MIDI system, the port still exists, lists nothing,
 * and says why in `unavailable`.
 */
import { NetworkError } from "../../crdt/vocabulary.ts";
import type { MidiInput, MidiOutput, MidiPort } from "./midi-port.ts";
import { noSuchPort } from "./midi-port-errors.ts";

/** The slice of the `midi` package we use. */
interface RtPort {
  getPortCount(): number;
  getPortName(i: number): string;
  openPort(i: number): void;
  closePort(): void;
}
interface RtInput extends RtPort {
  on(event: "message", cb: (delta: number, message: number[]) => void): void;
  ignoreTypes(sysex: boolean, timing: boolean, activeSensing: boolean): void;
}
interface RtOutput extends RtPort {
  sendMessage(message: number[]): void;
}
interface RtMidi {
  Input: new () => RtInput;
  Output: new () => RtOutput;
}

const MODULE_NAME = "midi";

/** `load` imports the package; tests pass a failing loader to see the absent-package path. */
export async function createNativeMidiPort(load: () => Promise<unknown> = () => import(MODULE_NAME)): Promise<MidiPort> {
  let rt: RtMidi;
  try {
    const mod = (await load()) as { default?: unknown };
    rt = (mod.default ?? mod) as RtMidi;
    if (typeof rt.Input !== "function" || typeof rt.Output !== "function") throw new Error("it has no Input/Output classes");
  } catch (e) {
    return new AbsentMidiPort(`the optional "midi" package could not be loaded (${(e as Error).message}); install it with \`npm install midi\` on a machine with a MIDI system`);
  }
  return new RtMidiPort(rt);
}

class AbsentMidiPort implements MidiPort {
  constructor(readonly unavailable: string) {}
  listInputs(): string[] {
    return [];
  }
  listOutputs(): string[] {
    return [];
  }
  openInput(name: string): MidiInput {
    throw noSuchPort("input", name, [], this.unavailable);
  }
  openOutput(name: string): MidiOutput {
    throw noSuchPort("output", name, [], this.unavailable);
  }
}

class RtMidiPort implements MidiPort {
  constructor(private readonly rt: RtMidi) {}

  get unavailable(): string | null {
    return null;
  }

  listInputs(): string[] {
    return names(new this.rt.Input());
  }

  listOutputs(): string[] {
    return names(new this.rt.Output());
  }

  openInput(name: string): MidiInput {
    const port = new this.rt.Input();
    const i = indexOf(port, name, "input");
    port.ignoreTypes(false, true, true); // sysex wanted; clock and active sensing would flood scripts
    let cb: ((bytes: number[]) => void) | null = null;
    port.on("message", (_delta, message) => cb?.(message));
    open(port, i, name, "input");
    return { onMessage: (f) => void (cb = f), close: () => port.closePort() };
  }

  openOutput(name: string): MidiOutput {
    const port = new this.rt.Output();
    const i = indexOf(port, name, "output");
    open(port, i, name, "output");
    return { send: (bytes) => port.sendMessage(bytes), close: () => port.closePort() };
  }
}

function names(port: RtPort): string[] {
  try {
    return Array.from({ length: port.getPortCount() }, (_, i) => port.getPortName(i));
  } finally {
    port.closePort();
  }
}

function indexOf(port: RtPort, name: string, kind: "input" | "output"): number {
  const all = Array.from({ length: port.getPortCount() }, (_, i) => port.getPortName(i));
  const i = all.indexOf(name);
  if (i < 0) {
    port.closePort();
    throw noSuchPort(kind, name, all, null);
  }
  return i;
}

function open(port: RtPort, i: number, name: string, kind: string): void {
  try {
    port.openPort(i);
  } catch (e) {
    throw new NetworkError(`MIDI ${kind} "${name}" could not be opened: ${(e as Error).message}`, { port: name, kind });
  }
}
