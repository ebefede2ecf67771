/**
 * `midi.*` for scripts (capability `net.midi`): inputs whose events queue until the script
 * asks for them, outputs, and the module-level send_* that go to the default output (the
 * last one opened, else the first the system lists). Raw bindings; Lua face in prelude.lua.
 */
import { InvalidOperation, NetworkError } from "../../crdt/vocabulary.ts";
import type { HostBinding, HostValue } from "../engine/index.ts";
import { Handles } from "./handles.ts";
import { Inbox } from "./inbox.ts";
import type { IoContext } from "./io-context.ts";
import { decodeMidi, encodeMidi } from "./midi-message.ts";
import type { MidiEvent } from "./midi-message.ts";
import type { MidiInput, MidiOutput } from "./midi-port.ts";

const DEFAULT_QUEUE = 10_000;

class OpenInput {
  constructor(readonly name: string, readonly port: MidiInput, readonly inbox: Inbox<MidiEvent>) {}
  close(): void {
    this.inbox.close();
    this.port.close();
  }
}

class OpenOutput {
  constructor(readonly name: string, readonly port: MidiOutput) {}
  close(): void {
    this.port.close();
  }
}

export function midiBindings(ctx: IoContext): Record<string, HostBinding> {
  const handles = new Handles(ctx.signal, (h, e) => ctx.log("warn", `closing MIDI ${h} failed: ${String(e)}`, { handle: h }));
  let defaultOutput: string | null = null;

  const allow = (): void => {
    if (!ctx.capabilities.has("net.midi")) throw ctx.capabilities.denied({ kind: "net.midi" });
  };
  const nameArg = (v: HostValue | undefined, call: string): string => {
    if (typeof v !== "string" || v === "") throw new InvalidOperation(`${call}: the port name must be a non-empty string (see midi.list_ports()), got ${JSON.stringify(v ?? null)}`, {});
    return v;
  };
  const notEnded = (call: string): void => {
    if (handles.closed) throw new InvalidOperation(`${call}: the run has ended`, {});
  };

  const openOutput = (name: string): string => {
    notEnded("midi.open_output");
    const handle = handles.add("midi-out", new OpenOutput(name, ctx.midi.openOutput(name)));
    defaultOutput = handle;
    return handle;
  };

  const send = async (args: HostValue[]): Promise<HostValue> => {
    allow();
    const [handle, kind, a, b, c] = args;
    const call = handle === null ? `midi.send_${String(kind)}` : `output:send_${String(kind)}`;
    const bytes = encodeMidi(String(kind), a ?? null, b ?? null, c ?? null, call);
    let h = handle;
    if (h === null || h === undefined) {
      if (defaultOutput === null) {
        const first = ctx.midi.listOutputs()[0];
        if (first === undefined) {
          throw new NetworkError(`${call}: no MIDI output to send to (${ctx.midi.unavailable ?? "this machine lists no MIDI outputs"}); open one with midi.open_output(name)`, {});
        }
        openOutput(first);
      }
      h = defaultOutput;
    }
    const out = handles.get(h, OpenOutput, "MIDI output: send");
    try {
      out.port.send(bytes);
    } catch (e) {
      throw new NetworkError(`${call} to "${out.name}" failed: ${(e as Error).message}`, { port: out.name });
    }
    return null;
  };

  return {
    "midi.list_ports": {
      kind: "sync",
      fn: () => {
        allow();
        const inputs = ctx.midi.listInputs();
        const outputs = ctx.midi.listOutputs();
        const reason = ctx.midi.unavailable ?? (inputs.length + outputs.length === 0 ? "no MIDI devices found on this machine" : null);
        return { inputs, outputs, available: ctx.midi.unavailable === null, reason };
      },
    },
    "midi.open_input": {
      kind: "async",
      fn: async (args) => {
        allow();
        const name = nameArg(args[0], "midi.open_input");
        notEnded("midi.open_input");
        const port = ctx.midi.openInput(name);
        const inbox = new Inbox<MidiEvent>({
          capacity: DEFAULT_QUEUE,
          timer: ctx.timer,
          onOverflow: () => ctx.log("warn", `MIDI input "${name}": ${DEFAULT_QUEUE} events are waiting for recv(); new events are dropped until the script catches up`, { port: name }),
          onRecovered: (n) => ctx.log("warn", `MIDI input "${name}": dropped ${n} events while the queue was full`, { port: name, dropped: n }),
        });
        port.onMessage((bytes) => {
          if (bytes.length > 0) inbox.push(decodeMidi(bytes));
        });
        return { handle: handles.add("midi-in", new OpenInput(name, port, inbox)), name };
      },
    },
    "midi.open_output": {
      kind: "async",
      fn: async (args) => {
        allow();
        const name = nameArg(args[0], "midi.open_output");
        return { handle: openOutput(name), name };
      },
    },
    "midi.__recv": {
      kind: "async",
      fn: async (args) => {
        const input = handles.get(args[0], OpenInput, "MIDI input: recv");
        const max = typeof args[1] === "number" && args[1] > 0 ? Math.floor(args[1]) : 256;
        const timeout = typeof args[2] === "number" && args[2] >= 0 ? args[2] : undefined;
        if (input.inbox.size === 0) ctx.waiting?.();
        const batch = await input.inbox.take(max, timeout);
        if (batch === null) return null;
        for (const event of batch) ctx.record({ kind: "midi.message", data: { port: input.name, ...event } });
        return batch;
      },
    },
    "midi.__send": { kind: "async", fn: send },
    "midi.__close": {
      kind: "sync",
      fn: async (args) => {
        if (args[0] === defaultOutput) defaultOutput = null;
        await handles.close(String(args[0]));
        return null;
      },
    },
  };
}
