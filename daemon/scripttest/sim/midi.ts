/**
 * A MIDI system for tests: every input and output name a script opens exists (a test rig has
 * whatever devices the test says), `sim.midi.input(name)` plays into inputs, and what scripts
 * send to outputs is kept by output name.
 */
import { NetworkError } from "../../crdt/index.ts";
import type { MidiInput, MidiOutput, MidiPort } from "../../scripts/io/index.ts";

export class SimMidi implements MidiPort {
  readonly unavailable = null;
  private readonly listeners = new Map<string, Set<(bytes: number[]) => void>>();
  private readonly out = new Map<string, number[][]>();
  private readonly names = { inputs: new Set<string>(), outputs: new Set<string>() };

  /** Makes a device known (listed by midi.list_ports()) before a script opens it. */
  declare(kind: "input" | "output", name: string): void {
    this.names[kind === "input" ? "inputs" : "outputs"].add(name);
  }

  listInputs(): string[] {
    return [...this.names.inputs].sort();
  }

  listOutputs(): string[] {
    return [...this.names.outputs].sort();
  }

  openInput(name: string): MidiInput {
    this.names.inputs.add(name);
    let cb: ((bytes: number[]) => void) | null = null;
    const deliver = (bytes: number[]): void => cb?.(bytes);
    let set = this.listeners.get(name);
    if (!set) this.listeners.set(name, (set = new Set()));
    set.add(deliver);
    return { onMessage: (f) => void (cb = f), close: () => void set.delete(deliver) };
  }

  openOutput(name: string): MidiOutput {
    this.names.outputs.add(name);
    let open = true;
    return {
      send: (bytes) => {
        if (!open) throw new NetworkError(`MIDI output "${name}" is closed`, { port: name });
        let list = this.out.get(name);
        if (!list) this.out.set(name, (list = []));
        list.push([...bytes]);
      },
      close: () => void (open = false),
    };
  }

  /** Plays one message into the input; how many open readers got it. */
  play(input: string, bytes: number[]): number {
    const set = this.listeners.get(input) ?? new Set();
    for (const f of set) f(bytes);
    return set.size;
  }

  /** Messages sent, per output: every output when `output` is not given. */
  sent(output?: string): Record<string, number[][]> {
    const names = output === undefined ? [...this.out.keys()] : [output];
    return Object.fromEntries(names.map((n) => [n, (this.out.get(n) ?? []).map((b) => [...b])]));
  }
}
