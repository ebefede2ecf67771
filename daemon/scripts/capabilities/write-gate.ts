/**
 * The one write gate: every operation a script makes (autoCommit bundle, session overlay,
 * session commit) passes it inside the interpreter, with the writes the operation declares
 * (crdt/op-writes.ts), checked against the grant in force at that moment.
 */
import type { Schema } from "../../crdt/vocabulary.ts";
import type { WriteGate } from "../../crdt/vocabulary.ts";
import type { CapabilitySet } from "./capability-set.ts";

export function writeGate(current: () => CapabilitySet, schema: Schema, script: string): WriteGate {
  return (op, writes) => {
    const caps = current();
    for (const w of writes) if (!caps.canWriteTarget(w, schema)) throw caps.deniedWrite(op.op, w, schema, script);
  };
}
