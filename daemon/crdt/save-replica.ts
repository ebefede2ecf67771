/**
 * The store's side of the save replica: a worker thread holding a second copy
 * of the document, built from the last full save and the change records
 * stored after it, and fed each change as it becomes durable. A compaction
 * asks it for a full save, so the save's cost (about a second per 200k
 * bundles of history, most of it DEFLATE) is paid on another core while the
 * store goes on acknowledging writes.
 *
 * The replica costs the memory of one more copy of the document; it is
 * started at the first compaction and ends with the store.
 */
import fs from "node:fs";
import { fileURLToPath } from "node:url";
import { Worker } from "node:worker_threads";
import type { Heads } from "./automerge-backend.ts";
import type { FromReplica, ToReplica } from "./save-replica-wire.ts";

const ENTRY = new URL("./save-replica-entry.mjs", import.meta.url);

/** False where the entry file is not beside this module (a bundled build): compaction then saves on the event loop. */
export function replicaAvailable(): boolean {
  return fs.existsSync(fileURLToPath(ENTRY));
}

export interface ReplicaSave {
  bytes: Uint8Array;
  /** The heads the save covers: those of the changes sent before it was asked for. */
  heads: Heads;
}

export class SaveReplica {
  private readonly worker: Worker;
  private nextId = 1;
  private readonly waiting = new Map<number, { resolve: (s: ReplicaSave) => void; reject: (e: Error) => void }>();
  private dead: Error | null = null;

  /** Starts the replica from `base` (null: an empty document) and the change bytes stored after it. */
  constructor(base: Uint8Array | null, changes: Uint8Array[]) {
    this.worker = new Worker(ENTRY);
    // A replica never keeps the process alive: the store's close ends it, and so does the process.
    this.worker.unref();
    this.worker.on("message", (m: FromReplica) => {
      const w = this.waiting.get(m.id);
      if (w === undefined) return;
      this.waiting.delete(m.id);
      if (m.t === "saved") w.resolve({ bytes: m.bytes, heads: m.heads });
      else w.reject(new Error(`the save replica could not save: ${m.message}`));
    });
    this.worker.on("error", (e: Error) => this.fail(new Error(`the save replica failed: ${e.message}`)));
    this.worker.on("exit", (code) => this.fail(new Error(`the save replica stopped (exit code ${code})`)));
    this.post({ t: "reset", base, changes });
  }

  /** Whether it can still save (it has not crashed or been stopped). */
  get alive(): boolean {
    return this.dead === null;
  }

  /** Change bytes just made durable, in the order they were stored. */
  feed(changes: Uint8Array[]): void {
    if (changes.length > 0) this.post({ t: "changes", changes });
  }

  /** A full save of every change fed so far. */
  save(): Promise<ReplicaSave> {
    if (this.dead !== null) return Promise.reject(this.dead);
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.waiting.set(id, { resolve, reject });
      this.post({ t: "save", id });
    });
  }

  /** Ends the thread; a save still awaited rejects. */
  async stop(): Promise<void> {
    this.fail(new Error("the save replica was stopped"));
    await this.worker.terminate();
  }

  private post(m: ToReplica): void {
    if (this.dead === null) this.worker.postMessage(m);
  }

  private fail(e: Error): void {
    if (this.dead === null) this.dead = e;
    for (const w of this.waiting.values()) w.reject(this.dead);
    this.waiting.clear();
  }
}
