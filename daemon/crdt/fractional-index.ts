/**
 * Fractional position keys for ordered edges: strings that sort in list order
 * and between any two of which another key can be made. Keys carry a short
 * random suffix so that two peers inserting at the same spot concurrently get
 * distinct keys (the edge id is the final tie-break when they still collide).
 */

const DIGITS = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
const BASE = DIGITS.length;
const MID = DIGITS[Math.floor(BASE / 2)];

function digit(c: string | undefined): number {
  if (c === undefined) return 0;
  const d = DIGITS.indexOf(c);
  if (d < 0) throw new TypeError(`invalid fractional index character "${c}"`);
  return d;
}

/**
 * A key strictly between `a` and `b` (null = open end). Keys never end in the
 * zero digit, so there is always room below any key.
 */
export function keyBetween(a: string | null, b: string | null): string {
  if (a !== null && b !== null && a >= b) {
    throw new RangeError(`keyBetween: "${a}" is not below "${b}"`);
  }
  const lo = a ?? "";
  let out = "";
  for (let i = 0; ; i++) {
    const dl = digit(lo[i]);
    const dh = b === null ? BASE : i < b.length ? digit(b[i]) : BASE;
    if (dh - dl > 1) {
      return out + DIGITS[Math.floor((dl + dh) / 2)];
    }
    // No room at this digit: keep the low digit and go deeper.
    out += DIGITS[dl];
    if (dh - dl === 1) {
      // Below b from here on: any suffix above lo's remainder works.
      return out + above(lo.slice(i + 1));
    }
  }
}

/** A key suffix strictly greater than `rest` with no upper bound. */
function above(rest: string): string {
  let out = "";
  for (let i = 0; ; i++) {
    const d = digit(rest[i]);
    if (d < BASE - 1) return out + DIGITS[Math.max(d + 1, Math.floor((d + BASE) / 2))];
    out += DIGITS[d];
  }
}

/** keyBetween plus a random suffix that keeps the order (suffix digits are never zero). */
export function positionBetween(a: string | null, b: string | null, random: () => number): string {
  const base = keyBetween(a, b);
  // Appending to `base` keeps it above `a`; it stays below `b` because base < b
  // and no key that extends `base` can reach b unless b extends base, which
  // keyBetween never returns (it always ends on a digit strictly below b's).
  let suffix = "";
  for (let i = 0; i < 3; i++) suffix += DIGITS[1 + Math.floor(random() * (BASE - 1))];
  const key = base + suffix;
  if ((a !== null && key <= a) || (b !== null && key >= b)) return base;
  return key;
}

export const FIRST_KEY = MID;
