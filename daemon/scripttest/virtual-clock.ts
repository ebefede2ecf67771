/**
 * The time a test sees: starts at a fixed instant and moves only when the test says
 * (`clock.advance(ms)`), so HLC times and generated ids are the same on every run.
 */
export interface VirtualClock {
  now: () => number;
  advance(ms: number): number;
  /** Deterministic stand-in for Math.random (seeds, ids). */
  random: () => number;
}

export const EPOCH_MS = Date.UTC(2026, 0, 1, 19, 30);

export function virtualClock(start = EPOCH_MS): VirtualClock {
  let t = start;
  // mulberry32: small, fast and good enough for ids and seeds.
  let seed = 0x5eed;
  return {
    now: () => t,
    advance(ms) {
      if (!Number.isFinite(ms) || ms < 0) throw new RangeError(`clock.advance needs a duration in ms >= 0 (got ${ms})`);
      t += ms;
      return t;
    },
    random() {
      seed = (seed + 0x6d2b79f5) | 0;
      let r = Math.imul(seed ^ (seed >>> 15), 1 | seed);
      r = (r + Math.imul(r ^ (r >>> 7), 61 | r)) ^ r;
      return ((r ^ (r >>> 14)) >>> 0) / 4294967296;
    },
  };
}
