/**
 * Hybrid logical clock: (wall ms, counter, peer id). Totally ordered, and the
 * string form sorts the same way as the clock, so it can be used as a sort key
 * in LevelDB and compared with `<` anywhere.
 */

import { parseHlc } from "../../protocol/index.ts";
import type { HlcTimestamp } from "../../protocol/index.ts";

// Parsing is the wire format's (clients read HLC strings too); issuing and merging is the clock's.
export { parseHlc, compareHlc } from "../../protocol/index.ts";
export type { HlcTimestamp } from "../../protocol/index.ts";

const WALL_DIGITS = 15;
const COUNTER_DIGITS = 6;
const MAX_COUNTER = 10 ** COUNTER_DIGITS - 1;

export function formatHlc(t: HlcTimestamp): string {
  return `${String(t.wall).padStart(WALL_DIGITS, "0")}-${String(t.counter).padStart(COUNTER_DIGITS, "0")}-${t.peer}`;
}

/** A clock owned by one peer. Wall time comes in as a parameter so tests and replay control it. */
export class HybridLogicalClock {
  private wall = 0;
  private counter = 0;

  constructor(
    readonly peer: string,
    private readonly now: () => number = Date.now,
    last?: string,
  ) {
    if (last) this.observe(last);
  }

  /**
   * A clock that continues one stopped at `last` (its own last timestamp, saved at a clean close):
   * its next tick is the one the stopped clock would have issued. `new HybridLogicalClock(peer,
   * now, last)` is the cautious resume, one step past `last`.
   */
  static continuing(peer: string, now: () => number, last: string): HybridLogicalClock {
    const c = new HybridLogicalClock(peer, now);
    const t = parseHlc(last);
    c.wall = t.wall;
    c.counter = t.counter;
    return c;
  }

  /** A new timestamp for a local event, greater than every one issued or observed before. */
  tick(): string {
    const physical = Math.floor(this.now());
    if (physical > this.wall) {
      this.wall = physical;
      this.counter = 0;
    } else {
      this.bumpCounter();
    }
    return formatHlc({ wall: this.wall, counter: this.counter, peer: this.peer });
  }

  /** Merge a timestamp seen in a remote bundle (or restored from disk) so later ticks sort after it. */
  observe(remote: string): void {
    const r = parseHlc(remote);
    const physical = Math.floor(this.now());
    const wall = Math.max(this.wall, r.wall, physical);
    if (wall === this.wall && wall === r.wall) {
      this.counter = Math.max(this.counter, r.counter);
      this.bumpCounter();
    } else if (wall === this.wall) {
      this.bumpCounter();
    } else if (wall === r.wall) {
      this.wall = wall;
      this.counter = r.counter;
      this.bumpCounter();
    } else {
      this.wall = wall;
      this.counter = 0;
    }
  }

  /** The last timestamp issued or observed (for persisting across restarts). */
  last(): string {
    return formatHlc({ wall: this.wall, counter: this.counter, peer: this.peer });
  }

  private bumpCounter(): void {
    if (this.counter >= MAX_COUNTER) {
      // A burst of a million events in one millisecond: borrow the next millisecond.
      this.wall += 1;
      this.counter = 0;
    } else {
      this.counter += 1;
    }
  }
}
