/**
 * A bounded queue between a network source (UDP socket, MIDI input, HTTP server) and the
 * script's recv()/accept() calls, so nothing arriving between two calls is lost.
 */
import { realTimer } from "./run-timer.ts";
import type { RunTimer } from "./run-timer.ts";

export interface InboxOptions {
  /** Items kept before new ones are refused; default 10 000. */
  capacity?: number;
  /** The queue just became full: items are being dropped (called once per episode). */
  onOverflow?: () => void;
  /** The reader made room again after an overflow; `dropped` items were lost meanwhile. */
  onRecovered?: (dropped: number) => void;
  /** What take()'s timeout counts on (default real time). */
  timer?: RunTimer;
}

interface Waiter<T> {
  max: number;
  resolve: (items: T[] | null) => void;
  cancel: (() => void) | null;
}

export class Inbox<T> {
  private items: T[] = [];
  private head = 0;
  private readonly waiters: Waiter<T>[] = [];
  private readonly capacity: number;
  private dropped = 0;
  private closed = false;

  constructor(private readonly opts: InboxOptions = {}) {
    this.capacity = opts.capacity ?? 10_000;
  }

  get size(): number {
    return this.items.length - this.head;
  }

  /** Hands the item to a waiting reader or queues it; false when the queue is full (item dropped). */
  push(item: T): boolean {
    if (this.closed) return false;
    const w = this.waiters.shift();
    if (w) {
      w.cancel?.();
      w.resolve([item]);
      return true;
    }
    if (this.size >= this.capacity) {
      if (this.dropped++ === 0) this.opts.onOverflow?.();
      return false;
    }
    this.items.push(item);
    return true;
  }

  /**
   * Up to `max` queued items, waiting for at least one. Resolves [] when `timeoutMs` passes
   * first, null once the inbox is closed and empty.
   */
  take(max: number, timeoutMs?: number): Promise<T[] | null> {
    if (this.size > 0) return Promise.resolve(this.drain(max));
    if (this.closed) return Promise.resolve(null);
    return new Promise((resolve) => {
      const w: Waiter<T> = { max, resolve, cancel: null };
      if (timeoutMs !== undefined && timeoutMs >= 0) {
        // The reader is blocked on this timeout: a "wait" (a test may let it elapse at once).
        w.cancel = (this.opts.timer ?? realTimer)(timeoutMs, () => {
          const i = this.waiters.indexOf(w);
          if (i >= 0) this.waiters.splice(i, 1);
          resolve([]);
        }, "wait");
      }
      this.waiters.push(w);
    });
  }

  /** Items still queued, and no more accepted; waiting readers get null. */
  close(): T[] {
    this.closed = true;
    for (const w of this.waiters.splice(0)) {
      w.cancel?.();
      w.resolve(null);
    }
    const rest = this.items.slice(this.head);
    this.items = [];
    this.head = 0;
    return rest;
  }

  private drain(max: number): T[] {
    const end = Math.min(this.items.length, this.head + Math.max(1, max));
    const out = this.items.slice(this.head, end);
    this.head = end;
    if (this.head === this.items.length) {
      this.items = [];
      this.head = 0;
    } else if (this.head > 4096 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    if (this.dropped > 0 && this.size < this.capacity) {
      this.opts.onRecovered?.(this.dropped);
      this.dropped = 0;
    }
    return out;
  }
}
