/**
 * The save replica's thread: a second copy of the document, fed the change
 * bytes the store has already made durable, whose only job is the full save
 * (`Automerge.save`, mostly DEFLATE) that would otherwise stop the store's
 * event loop for as long as the history is big.
 */
import { parentPort } from "node:worker_threads";
import { createBackend, loadBackend } from "./automerge-backend.ts";
import type { Backend } from "./automerge-backend.ts";
import type { FromReplica, ToReplica } from "./save-replica-wire.ts";

const port = parentPort;
if (port === null) throw new Error("save-replica-worker.ts runs in a worker thread");

let doc: Backend = createBackend();
/** Set when a message could not be applied: every later save reports it instead of saving less than was sent. */
let failure: string | null = null;

function apply(changes: Uint8Array[]): void {
  if (changes.length > 0) doc.applyChanges(changes);
}

port.on("message", (m: ToReplica) => {
  try {
    if (m.t === "reset") {
      doc.free();
      failure = null;
      doc = m.base === null ? createBackend() : loadBackend(m.base);
      apply(m.changes);
    } else if (m.t === "changes") {
      if (failure === null) apply(m.changes);
    } else {
      if (failure !== null) {
        port.postMessage({ t: "failed", id: m.id, message: failure } satisfies FromReplica);
        return;
      }
      // A change waiting for its dependencies would be missing from the save while its record is deleted.
      const missing = doc.getMissingDeps([]);
      if (missing.length > 0) throw new Error(`changes are waiting for missing dependencies ${missing.join(", ")}`);
      const bytes = doc.save();
      port.postMessage({ t: "saved", id: m.id, bytes, heads: doc.getHeads() } satisfies FromReplica, [bytes.buffer as ArrayBuffer]);
    }
  } catch (e) {
    failure = (e as Error).message;
    if (m.t === "save") port.postMessage({ t: "failed", id: m.id, message: failure } satisfies FromReplica);
  }
});
