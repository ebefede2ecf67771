/**
 * What a show I/O module needs from the run it serves: the run's capabilities, a log, the run
 * record for external inputs, the run's end, and the MIDI seam. Nothing else reaches in.
 */
import type { CapabilitySet } from "../capabilities/index.ts";
import type { MidiPort } from "./midi-port.ts";

export type IoLogLevel = "debug" | "info" | "warn" | "error";

export interface IoContext {
  /** The grant in force at this moment (read on every call: a revocation is felt at once). */
  readonly capabilities: CapabilitySet;
  runId: string;
  log: (level: IoLogLevel, msg: string, fields?: Record<string, unknown>) => void;
  /** Every external input (message received, request received, response received) goes here. */
  record: (input: { kind: string; data: unknown }) => void;
  /** Aborted when the run ends or is cancelled: every socket, server and port is closed then. */
  signal: AbortSignal;
  midi: MidiPort;
}
