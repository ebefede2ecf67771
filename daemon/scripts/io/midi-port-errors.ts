/** The one error both MIDI ports give for a port that cannot be opened. */
import { NetworkError } from "../../crdt/vocabulary.ts";

export function noSuchPort(kind: "input" | "output", name: string, existing: string[], unavailable: string | null): NetworkError {
  if (unavailable !== null) return new NetworkError(`MIDI ${kind} "${name}" cannot be opened: ${unavailable}`, { port: name, kind, reason: unavailable });
  const list = existing.length === 0 ? `this machine has no MIDI ${kind}s` : `available ${kind}s: ${existing.map((n) => `"${n}"`).join(", ")}`;
  return new NetworkError(`no MIDI ${kind} named "${name}" (${list})`, { port: name, kind, available: existing });
}
