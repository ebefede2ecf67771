/**
 * A MIDI system in memory: named inputs a test (or a loopback) plays into, named outputs
 * that remember what was sent. Behaves like the native port: unknown names throw.
 */
import { NetworkError } from "../../crdt/vocabulary.ts";
import type { MidiInput, MidiOutput, MidiPort } from "./midi-port.ts";
import { noSuchPort } from "./midi-port-errors.ts";

export class VirtualMidiPort implements MidiPort {
  readonly unavailable: string | null;
  private readonly inputs: string[];
  private readonly outputs: string[];
  private readonly listeners = new Map<string, Set<(bytes: number[]) => void>>();
  private readonly sentTo = new Map<string, number[][]>();

  constructor(opts: { inputs?: string[]; outputs?: string[]; unavailable?: string } = {}) {
    this.unavailable = opts.unavailable ?? null;
    this.inputs = this.unavailable ? [] : (opts.inputs ?? ["Virtual In"]);
    this.outputs = this.unavailable ? [] : (opts.outputs ?? ["Virtual Out"]);
  }

  listInputs(): string[] {
    return [...this.inputs];
  }

  listOutputs(): string[] {
    return [...this.outputs];
  }

  openInput(name: string): MidiInput {
    if (!this.inputs.includes(name)) throw noSuchPort("input", name, this.inputs, this.unavailable);
    let cb: ((bytes: number[]) => void) | null = null;
    const deliver = (bytes: number[]): void => cb?.(bytes);
    let set = this.listeners.get(name);
    if (!set) this.listeners.set(name, (set = new Set()));
    set.add(deliver);
    return {
      onMessage: (f) => void (cb = f),
      close: () => void set.delete(deliver),
    };
  }

  openOutput(name: string): MidiOutput {
    if (!this.outputs.includes(name)) throw noSuchPort("output", name, this.outputs, this.unavailable);
    let open = true;
    return {
      send: (bytes) => {
        if (!open) throw new NetworkError(`MIDI output "${name}" is closed`, { port: name });
        let list = this.sentTo.get(name);
        if (!list) this.sentTo.set(name, (list = []));
        list.push([...bytes]);
      },
      close: () => void (open = false),
    };
  }

  /** Plays a message into every open input of that name, as a device would. */
  play(input: string, bytes: number[]): void {
    for (const f of this.listeners.get(input) ?? []) f(bytes);
  }

  /** How many readers the input has open (0 once the script closed it). */
  openCount(input: string): number {
    return this.listeners.get(input)?.size ?? 0;
  }

  /** Everything sent to an output, message by message. */
  sent(output: string): number[][] {
    return this.sentTo.get(output) ?? [];
  }
}
