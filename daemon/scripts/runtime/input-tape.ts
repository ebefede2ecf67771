/**
 * The input tape: what every host call that reaches outside the snapshot answered (OSC, MIDI,
 * HTTP, files, native capabilities, `context.hlc_time()`), and how time went (race winners,
 * sleeps), in the order the script made the calls. A live run writes it into its run record;
 * a replay answers the same calls from it and never reaches the network or the disk. Where the
 * replay asks for more than was recorded, it says where the recording ran out.
 */
import { InvalidOperation } from "../../crdt/index.ts";
import { LuaFloat } from "../engine/index.ts";
import { createHash } from "node:crypto";
import type { HostBinding, HostValue, RunInfo } from "../engine/index.ts";
import type { RecordedTape, TapeEntry, TapeRanOut } from "../../../protocol/index.ts";

/** Entries a run record keeps; a replay past them reports that the recording ran out. */
export const TAPE_ENTRIES = 10_000;
// The wire's own words (protocol/): the daemon keeps no second copy of them.
export type { RecordedTape, TapeEntry, TapeRanOut };

/** Answers larger than this (as JSON) keep only their size and hash: a replay of them reports so. */
export const TAPE_VALUE_BYTES = 1024 * 1024;
/**
 * Answers kept in all, bytes of JSON: a listener that runs for days keeps its first hours,
 * and a replay past them says the recording ran out there.
 */
export const TAPE_BYTES = 8 * 1024 * 1024;

/** The live side: wraps bindings so their answers go on the tape. */
export class InputTape {
  private readonly entries: TapeEntry[] = [];
  private total = 0;
  private bytes = 0;

  /** Returns `bindings` with every binding named in `names` (sync or async) recorded. */
  wrap(bindings: Record<string, HostBinding>, names: ReadonlySet<string>): Record<string, HostBinding> {
    const out: Record<string, HostBinding> = { ...bindings };
    for (const name of names) {
      const b = bindings[name];
      if (!b || b.kind === "event") continue;
      const call = async (args: HostValue[], run: RunInfo): Promise<HostValue> => {
        const entry = this.open(name);
        try {
          const v = await b.fn(args, run);
          if (entry) {
            const value = toTape(v);
            const json = JSON.stringify(value);
            if (json.length > TAPE_VALUE_BYTES || this.bytes + json.length > TAPE_BYTES) entry.omitted = { bytes: json.length, sha256: createHash("sha256").update(json).digest("hex") };
            else {
              this.bytes += json.length;
              entry.v = value;
            }
            delete entry.pending;
          }
          return v;
        } catch (e) {
          if (entry) {
            entry.e = errorOf(e);
            delete entry.pending;
          }
          throw e;
        }
      };
      out[name] = { ...b, fn: call };
    }
    return out;
  }

  /** A timing outcome (race winner, sleep) noted by the engine. */
  note(b: string, value: unknown): void {
    const entry = this.open(b);
    if (entry) {
      entry.v = value;
      delete entry.pending;
    }
  }

  /** Entries so far (what an op made now follows). */
  get size(): number {
    return this.total;
  }

  toRecord(): RecordedTape {
    return { entries: this.entries.map((e) => ({ ...e })), total: this.total };
  }

  private open(b: string): TapeEntry | null {
    this.total++;
    if (this.entries.length >= TAPE_ENTRIES) return null;
    const entry: TapeEntry = { b, pending: true };
    this.entries.push(entry);
    return entry;
  }
}

/**
 * The replay side: bindings named in `names` answered from the tape, call by call per
 * binding, in the recorded order. Nothing else is called.
 */
export function replayedBindings(
  bindings: Record<string, HostBinding>,
  names: ReadonlySet<string>,
  tape: RecordedTape,
  ranOut: (r: TapeRanOut) => void,
): Record<string, HostBinding> {
  const queues = new Map<string, TapeEntry[]>();
  for (const e of tape.entries) {
    let q = queues.get(e.b);
    if (!q) queues.set(e.b, (q = []));
    q.push(e);
  }
  const complete = tape.total <= tape.entries.length;
  const out: Record<string, HostBinding> = { ...bindings };
  for (const name of names) {
    const b = bindings[name];
    if (!b || b.kind === "event") continue;
    const recorded = queues.get(name) ?? [];
    let calls = 0;
    const answer = (): HostValue => {
      const n = ++calls;
      const entry = recorded[n - 1];
      if (!entry || entry.pending || entry.omitted) {
        const r: TapeRanOut = { binding: name, call: n, recorded: recorded.filter((x) => !x.pending && !x.omitted).length, complete };
        ranOut(r);
        throw new InvalidOperation(`replay: the recorded inputs ran out at ${describeRanOut(r)}; the replay does no live I/O`, { binding: name, call: n });
      }
      if (entry.e) throw Object.assign(new Error(entry.e.message), { code: entry.e.type, details: entry.e.details ?? {} });
      return fromTape(entry.v);
    };
    out[name] = { ...b, fn: async () => answer() };
  }
  return out;
}

/** The recorded race winners, in order (for the engine's replayTiming). */
export function recordedRaces(tape: RecordedTape): number[] {
  return tape.entries.filter((e) => e.b === "core.race").map((e) => (typeof e.v === "number" ? e.v : 0));
}

export function describeRanOut(r: TapeRanOut): string {
  return `${r.binding} call #${r.call} (the run recorded ${r.recorded} answer(s) of it${r.complete ? "" : `; its record kept only the first ${TAPE_ENTRIES} inputs`})`;
}

/** One tape entry in words, for a replay report. */
export function describeEntry(index: number, e: TapeEntry): string {
  const what = e.e ? `${e.e.type}: ${e.e.message}` : e.pending ? "no answer yet" : e.omitted ? `${e.omitted.bytes} bytes (kept as a hash)` : short(JSON.stringify(e.v ?? null));
  return `input #${index + 1}: ${e.b} → ${what}`;
}

function short(s: string): string {
  return s.length > 120 ? `${s.slice(0, 117)}...` : s;
}

function errorOf(e: unknown): NonNullable<TapeEntry["e"]> {
  const err = e as { code?: unknown; type?: unknown; message?: unknown; details?: unknown };
  const type = typeof err?.code === "string" ? err.code : typeof err?.type === "string" ? err.type : "InternalError";
  const out: NonNullable<TapeEntry["e"]> = { type, message: typeof err?.message === "string" ? err.message : String(e) };
  if (err?.details && typeof err.details === "object" && !Array.isArray(err.details)) out.details = toTape(err.details as HostValue) as Record<string, unknown>;
  return out;
}

const FLOAT = "$float";

/** Host values as JSON: a LuaFloat (a float that must stay one in Lua) is `{"$float": x}`. */
function toTape(v: HostValue | undefined): unknown {
  if (v === undefined) return null;
  if (v instanceof LuaFloat) return { [FLOAT]: v.value };
  if (Array.isArray(v)) return v.map(toTape);
  if (v !== null && typeof v === "object") return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, toTape(x)]));
  return v;
}

function fromTape(v: unknown): HostValue {
  if (Array.isArray(v)) return v.map(fromTape);
  if (v !== null && typeof v === "object") {
    const o = v as Record<string, unknown>;
    const keys = Object.keys(o);
    if (keys.length === 1 && keys[0] === FLOAT && typeof o[FLOAT] === "number") return new LuaFloat(o[FLOAT]);
    return Object.fromEntries(keys.map((k) => [k, fromTape(o[k])]));
  }
  return v as HostValue;
}
