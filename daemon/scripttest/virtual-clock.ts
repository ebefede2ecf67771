/**
 * The time a test sees: starts at a fixed instant and moves only when the test says
 * (`clock.advance(ms)`) or when a run the test waits for sleeps, so HLC times, generated ids
 * and `core.sleep` (with core.race timeouts) are the same on every run and take no real time.
 *
 * Scripts' sleeps reach it through the runtime's sleep seam (ScriptRuntimeOptions.sleep): a
 * sleep is a sleeper here, woken when virtual time reaches its end.
 */
export interface VirtualClock {
  now: () => number;
  /** Moves time forward by `ms`, waking every sleeper due by then, in order; resolves to the new time. */
  advance(ms: number): Promise<number>;
  /** Deterministic stand-in for Math.random (seeds, ids). */
  random: () => number;
  /** A run's core.sleep(ms): resolves when virtual time has moved `ms` past now. */
  sleep(ms: number, runId: string): Promise<void>;
  /**
   * A timer of a run's I/O (IoSeams.timer): a `wait` (a recv timeout the run is blocked on) is
   * a sleeper like core.sleep; a `deadline` (an HTTP answer deadline) never makes time jump,
   * it fires when time passes it. The result cancels it.
   */
  timer(ms: number, runId: string, fn: () => void, kind: TimerKind): () => void;
  /**
   * While `p` is pending (the test waits for a run), sleeps of the runs `waitedFor` accepts
   * elapse at once: time jumps to the earliest one's end when nothing else woke its run first.
   */
  whileWaiting<T>(p: Promise<T>, waitedFor: (runId: string) => boolean): Promise<T>;
  /** A run ended: its sleepers (a race's losing timeout) are dropped. */
  ended(runId: string): void;
  /** Sleepers (sleeps and recv timeouts) not yet woken (for the test's messages). */
  sleeping(): number;
}

export const EPOCH_MS = Date.UTC(2026, 0, 1, 19, 30);

import type { TimerKind } from "../scripts/io/index.ts";
import { RunQuiet } from "./sim/index.ts";

interface Sleeper {
  due: number;
  seq: number;
  runId: string;
  kind: TimerKind;
  wake: () => void;
}

/** Two turns of the event loop: replies already posted to workers go out first. */
const turn = (): Promise<void> => new Promise((r) => setImmediate(() => setImmediate(r)));
/** A millisecond of real time: calls a worker made together (a race's inputs) have all arrived. */
const beat = (): Promise<void> => new Promise((r) => setTimeout(r, 1));

/** `quiet` hears every sleep; advance() waits on it for a woken run to sleep again, wait for input or end. */
export function virtualClock(quiet: RunQuiet = new RunQuiet(), start = EPOCH_MS, randomSeed = 0x5eed): VirtualClock {
  let t = start;
  let seq = 0;
  const sleepers: Sleeper[] = [];
  let waiting: { accepts: (runId: string) => boolean } | null = null;
  let draining = false;
  // mulberry32: small, fast and good enough for ids and seeds.
  let seed = randomSeed;

  const take = (pick: (s: Sleeper) => boolean): Sleeper | null => {
    let best = -1;
    sleepers.forEach((s, i) => {
      if (pick(s) && (best < 0 || s.due < sleepers[best].due || (s.due === sleepers[best].due && s.seq < sleepers[best].seq))) best = i;
    });
    return best < 0 ? null : sleepers.splice(best, 1)[0];
  };

  const wakeOne = (s: Sleeper): void => {
    if (s.due > t) t = s.due;
    s.wake();
  };

  /** While a run is waited for: its sleepers are woken one by one, each once things went quiet. */
  const drain = async (): Promise<void> => {
    if (draining) return;
    draining = true;
    try {
      for (;;) {
        // Until no new sleep came for a beat: the earliest of a race's sleeps is then known.
        let seen = -1;
        while (seen !== seq) {
          seen = seq;
          await turn();
          await beat();
        }
        const w = waiting;
        if (!w) return;
        const s = take((x) => x.kind === "wait" && w.accepts(x.runId));
        if (!s) return;
        // Deadlines passed on the way fire first (a 504 before the slow handler wakes); what
        // was waited for may be over then, so the sleeper goes back and the loop looks again.
        const passed = sleepers.filter((x) => x.kind === "deadline" && x.due <= s.due);
        if (passed.length > 0) {
          sleepers.push(s);
          for (;;) {
            const d = take((x) => x.kind === "deadline" && x.due <= s.due);
            if (!d) break;
            wakeOne(d);
          }
          continue;
        }
        // The next sleeper wakes only once this run went quiet: when it ends first, its other
        // sleepers (a race's losing timeout) are dropped and move no time.
        const next = quiet.until(s.runId);
        wakeOne(s);
        await next;
      }
    } finally {
      draining = false;
    }
  };

  const clock: VirtualClock = {
    now: () => t,
    async advance(ms) {
      if (!Number.isFinite(ms) || ms < 0) throw new RangeError(`clock.advance needs a duration in ms >= 0 (got ${ms})`);
      const target = t + ms;
      for (;;) {
        const s = take((x) => x.due <= target);
        if (!s) break;
        if (s.kind === "deadline") {
          // Nothing of the run waits on a deadline: fired, and on to the next.
          wakeOne(s);
          await turn();
          continue;
        }
        // The woken run goes on until it sleeps again (maybe due before target), waits or ends.
        const next = quiet.until(s.runId);
        wakeOne(s);
        await next;
        await turn();
      }
      t = target;
      return t;
    },
    random() {
      seed = (seed + 0x6d2b79f5) | 0;
      let r = Math.imul(seed ^ (seed >>> 15), 1 | seed);
      r = (r + Math.imul(r ^ (r >>> 7), 61 | r)) ^ r;
      return ((r ^ (r >>> 14)) >>> 0) / 4294967296;
    },
    sleep(ms, runId) {
      return new Promise<void>((wake) => void clock.timer(ms, runId, wake, "wait"));
    },
    timer(ms, runId, fn, kind) {
      const s: Sleeper = { due: t + Math.max(0, ms), seq: seq++, runId, kind, wake: fn };
      sleepers.push(s);
      if (kind === "wait") {
        quiet.quiet(runId);
        if (waiting?.accepts(runId)) void drain();
      }
      return () => {
        const i = sleepers.indexOf(s);
        if (i >= 0) sleepers.splice(i, 1);
      };
    },
    async whileWaiting(p, waitedFor) {
      const outer = waiting;
      waiting = { accepts: (id) => waitedFor(id) || (outer?.accepts(id) ?? false) };
      if (sleepers.some((s) => s.kind === "wait" && waiting?.accepts(s.runId))) void drain();
      try {
        return await p;
      } finally {
        waiting = outer;
      }
    },
    ended(runId) {
      // An ended run's sleepers (a race's losing timeout) never wake anyone.
      for (let i = sleepers.length - 1; i >= 0; i--) if (sleepers[i].runId === runId) sleepers.splice(i, 1);
    },
    sleeping: () => sleepers.filter((s) => s.kind === "wait").length,
  };
  return clock;
}
