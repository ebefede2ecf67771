/**
 * Trigger runs waiting for a slot. At most `maxConcurrent` run at once; a
 * free slot goes to the eligible run that fired first (lowest sequence
 * number), so with the same inputs runs start in the same order. Runs of one
 * trigger on one entity share a key, and the trigger's concurrency mode
 * decides what a new firing does while the key is busy:
 *
 * - queued: waits its turn behind the key's earlier runs (one at a time per key);
 * - single: is dropped;
 * - restart: aborts the key's current run and replaces any run still waiting;
 * - parallel: ignores the key.
 */
import type { Concurrency } from "./trigger-def.ts";

export interface QueuedRun {
  /** Firing order. */
  seq: number;
  /** `trigger\0entity`. */
  key: string;
  mode: Concurrency;
  /** Does the run; settles when the run has ended. Never rejects (the caller records failures). */
  start(signal: AbortSignal): Promise<void>;
  /** The run will never start (restart mode: a newer firing replaced it). */
  dropped(reason: "superseded"): void;
}

interface Entry {
  run: QueuedRun;
  started: boolean;
  dropped: boolean;
  controller: AbortController | null;
}

interface KeyState {
  /** The entry holding the key: waiting in `ready` or running. */
  active: Entry;
  waiting: Fifo<Entry>;
}

export class RunQueue {
  private readonly ready = new MinHeap<Entry>((a, b) => a.run.seq - b.run.seq);
  private readonly keys = new Map<string, KeyState>();
  private running = 0;
  private outstanding = 0;
  private idleWaiters: (() => void)[] = [];

  constructor(private readonly maxConcurrent: number) {
    if (!Number.isInteger(maxConcurrent) || maxConcurrent < 1) {
      throw new RangeError(`maxConcurrent must be a positive integer, got ${maxConcurrent}`);
    }
  }

  /** Queues a run; "skipped" when concurrency = single and the key is busy (the run will never start). */
  submit(run: QueuedRun): "queued" | "skipped" {
    const entry: Entry = { run, started: false, dropped: false, controller: null };
    if (run.mode === "parallel") {
      this.enqueue(entry);
      return "queued";
    }
    const state = this.keys.get(run.key);
    if (state === undefined) {
      this.keys.set(run.key, { active: entry, waiting: new Fifo() });
      this.enqueue(entry);
      return "queued";
    }
    switch (run.mode) {
      case "single":
        return "skipped";
      case "restart": {
        for (let w = state.waiting.shift(); w !== undefined; w = state.waiting.shift()) this.drop(w);
        if (state.active.started) {
          state.active.controller?.abort();
          this.outstanding++;
          state.waiting.push(entry);
        } else {
          this.drop(state.active);
          state.active = entry;
          this.enqueue(entry);
        }
        return "queued";
      }
      default:
        this.outstanding++;
        state.waiting.push(entry);
        return "queued";
    }
  }

  /** Resolves once nothing is queued or running. */
  idle(): Promise<void> {
    if (this.outstanding === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  get runningCount(): number {
    return this.running;
  }

  private enqueue(entry: Entry): void {
    this.outstanding++;
    this.ready.push(entry);
    this.pump();
  }

  private drop(entry: Entry): void {
    entry.dropped = true;
    this.outstanding--;
    entry.run.dropped("superseded");
  }

  private pump(): void {
    while (this.running < this.maxConcurrent && this.ready.size > 0) {
      const entry = this.ready.pop() as Entry;
      if (entry.dropped) continue;
      entry.started = true;
      entry.controller = new AbortController();
      this.running++;
      void entry.run.start(entry.controller.signal).then(
        () => this.finished(entry),
        () => this.finished(entry),
      );
    }
    this.checkIdle();
  }

  private finished(entry: Entry): void {
    this.running--;
    this.outstanding--;
    const state = entry.run.mode === "parallel" ? undefined : this.keys.get(entry.run.key);
    if (state !== undefined && state.active === entry) {
      const next = state.waiting.shift();
      if (next === undefined) {
        this.keys.delete(entry.run.key);
      } else {
        state.active = next;
        // `outstanding` already counts it (it was counted when it started waiting).
        this.ready.push(next);
      }
    }
    this.pump();
  }

  private checkIdle(): void {
    if (this.outstanding !== 0 || this.idleWaiters.length === 0) return;
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const w of waiters) w();
  }
}

/** Array-backed FIFO with O(1) shift. */
class Fifo<T> {
  private items: T[] = [];
  private head = 0;

  push(item: T): void {
    this.items.push(item);
  }

  shift(): T | undefined {
    if (this.head >= this.items.length) return undefined;
    const item = this.items[this.head++];
    if (this.head > 1024 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    return item;
  }
}

class MinHeap<T> {
  private readonly items: T[] = [];
  constructor(private readonly less: (a: T, b: T) => number) {}

  get size(): number {
    return this.items.length;
  }

  push(item: T): void {
    const a = this.items;
    a.push(item);
    let i = a.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (this.less(a[i], a[p]) >= 0) break;
      [a[i], a[p]] = [a[p], a[i]];
      i = p;
    }
  }

  pop(): T | undefined {
    const a = this.items;
    if (a.length === 0) return undefined;
    const top = a[0];
    const last = a.pop() as T;
    if (a.length > 0) {
      a[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < a.length && this.less(a[l], a[m]) < 0) m = l;
        if (r < a.length && this.less(a[r], a[m]) < 0) m = r;
        if (m === i) break;
        [a[i], a[m]] = [a[m], a[i]];
        i = m;
      }
    }
    return top;
  }
}
