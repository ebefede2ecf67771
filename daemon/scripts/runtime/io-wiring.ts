/**
 * Show I/O in real runs: which of `osc` / `midi` / `http` a run gets (its capabilities decide;
 * absent otherwise), the IoContext they serve it through (closed when the run ends), and the
 * bounded log of external inputs that goes into the run record.
 */
import { createHash } from "node:crypto";
import type { CapabilitySet } from "../capabilities/index.ts";
import type { Capability } from "../capabilities/index.ts";
import type { HostBinding } from "../engine/index.ts";
import { httpBindings, ioPreludeLua, midiBindings, oscBindings } from "../io/index.ts";
import type { IoContext, IoLogLevel, IoSeams, MidiPort } from "../io/index.ts";

/** Inputs kept whole in a run record; the next ones keep only their kind and content hash. */
export const FULL_INPUTS = 1000;
/** Inputs kept as hashes after the full ones; beyond that only counts and the running digest. */
export const HASHED_INPUTS = 10_000;

export interface InputEntry {
  kind: string;
  value?: unknown;
  /** sha-256 of the JSON of the value, for inputs past the first FULL_INPUTS. */
  hash?: string;
}

/**
 * External inputs a run read, bounded: a background listener may receive millions of messages.
 * The first `full` are kept whole, the next `hashed` as content hashes; every input counts
 * (per kind) and feeds a running digest, so a replay can check it saw the same inputs.
 */
export class InputLog {
  private readonly entries: InputEntry[] = [];
  private readonly counts = new Map<string, number>();
  private total = 0;
  private readonly running = createHash("sha256");

  constructor(private readonly full = FULL_INPUTS, private readonly hashed = HASHED_INPUTS) {}

  push(input: { kind: string; value: unknown }): void {
    this.total++;
    this.counts.set(input.kind, (this.counts.get(input.kind) ?? 0) + 1);
    const json = JSON.stringify(input.value ?? null);
    this.running.update(input.kind).update("\u0000").update(json).update("\u0000");
    if (this.total <= this.full) this.entries.push({ kind: input.kind, value: input.value ?? null });
    else if (this.total <= this.full + this.hashed) this.entries.push({ kind: input.kind, hash: createHash("sha256").update(json).digest("hex") });
  }

  get size(): number {
    return this.total;
  }

  /** sha-256 over every input so far (kind and value, in order): what a bundle's origin names. */
  digest(): string {
    return this.running.copy().digest("hex");
  }

  /**
   * What the run record keeps: the entries, then (only when some were cut short) one
   * `inputs.summary` entry with the total, per-kind counts and the digest of all of them.
   */
  toRecord(): { kind: string; value: unknown }[] {
    const out = this.entries.map((e) => ({ kind: e.kind, value: e.hash !== undefined ? { hash: e.hash } : e.value }));
    if (this.total > this.full) {
      out.push({
        kind: "inputs.summary",
        value: { total: this.total, full: this.full, hashed: Math.min(this.hashed, this.total - this.full), byKind: Object.fromEntries(this.counts), digest: this.digest() },
      });
    }
    return out;
  }
}

/**
 * The capabilities I/O is checked against: the set the runtime was given for the script when
 * it is a full CapabilitySet, else the script's own `capabilities` list; minus revoked ones.
 */
/** "net.osc" revokes every net.osc:<ports>; "net.osc:8000-8010" only that grant. */
export function isRevoked(c: Capability, revoked: ReadonlySet<string>): boolean {
  return revoked.has(c.text) || revoked.has(c.kind);
}

export interface RunIo {
  /** Host bindings of the modules this run may use (empty when none). */
  bindings: Record<string, HostBinding>;
  /** Lua giving them their objects; "" when no module is installed. */
  prelude: string;
  /** Ends the I/O of the run: every socket, server and port is closed. */
  close(): void;
  /** The modules installed, e.g. ["osc", "http"]. */
  modules: string[];
}

export interface RunIoInput {
  /** The run's grant as it is now; which modules exist is decided by the grant at start. */
  capabilities: () => CapabilitySet;
  runId: string;
  midi: MidiPort;
  log: (level: IoLogLevel, msg: string, fields?: Record<string, unknown>) => void;
  record: (input: { kind: string; data: unknown }) => void;
  /** Simulated network for the run (openprod test); absent: the real one. */
  seams?: IoSeams;
}

export function wireRunIo(input: RunIoInput): RunIo {
  const caps = input.capabilities();
  const controller = new AbortController();
  const ctx: IoContext = {
    ...input.seams,
    get capabilities() {
      return input.capabilities();
    },
    runId: input.runId,
    log: input.log,
    record: input.record,
    signal: controller.signal,
    midi: input.midi,
  };
  const bindings: Record<string, HostBinding> = {};
  const modules: string[] = [];
  if (caps.has("net.osc")) {
    Object.assign(bindings, oscBindings(ctx));
    modules.push("osc");
  }
  if (caps.has("net.midi")) {
    Object.assign(bindings, midiBindings(ctx));
    modules.push("midi");
  }
  if (caps.has("net.http.client") || caps.has("net.http.server")) {
    Object.assign(bindings, httpBindings(ctx));
    modules.push("http");
  }
  return { bindings, prelude: modules.length > 0 ? ioPreludeLua : "", close: () => controller.abort(), modules };
}
