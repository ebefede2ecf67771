/**
 * What each firing of a trigger did, kept per trigger in three rings of
 * `max_traces` each: runs that succeeded, runs that failed (or were stopped
 * or cancelled), and firings that ran nothing (condition false, no scope,
 * skipped). A flood of one kind never pushes out the others, so the last
 * failures are still there after ten thousand successes.
 */
import type { TraceStatus, TriggerTrace } from "../../protocol/index.ts";
// The wire's own words (protocol/): the daemon keeps no second copy of them.
export type { TraceStatus, TriggerTrace };

const FAILURES: ReadonlySet<TraceStatus> = new Set(["failed", "cancelled", "stopped"]);
const SUCCESSES: ReadonlySet<TraceStatus> = new Set(["ok"]);

class Ring<T> {
  private readonly items: T[] = [];
  private next = 0;
  constructor(private readonly capacity: number) {}

  push(item: T): void {
    if (this.items.length < this.capacity) this.items.push(item);
    else this.items[this.next] = item;
    this.next = (this.next + 1) % this.capacity;
  }

  values(): T[] {
    return this.items.slice();
  }
}

export class TraceLog {
  private readonly ok: Ring<TriggerTrace>;
  private readonly failed: Ring<TriggerTrace>;
  private readonly notRun: Ring<TriggerTrace>;
  private readonly inFlight = new Set<TriggerTrace>();

  constructor(maxTraces: number) {
    this.ok = new Ring(maxTraces);
    this.failed = new Ring(maxTraces);
    this.notRun = new Ring(maxTraces);
  }

  /** A firing that has not ended yet (queued or running): listed until settled. */
  begin(trace: TriggerTrace): void {
    this.inFlight.add(trace);
  }

  /** A firing has ended: file it in its ring. */
  settle(trace: TriggerTrace): void {
    this.inFlight.delete(trace);
    if (SUCCESSES.has(trace.status)) this.ok.push(trace);
    else if (FAILURES.has(trace.status)) this.failed.push(trace);
    else this.notRun.push(trace);
  }

  /** Every kept trace, oldest first. */
  list(): TriggerTrace[] {
    return [...this.ok.values(), ...this.failed.values(), ...this.notRun.values(), ...this.inFlight].sort((a, b) => a.seq - b.seq);
  }

  get pending(): number {
    return this.inFlight.size;
  }
}
