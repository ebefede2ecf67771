/**
 * Entity and edge ids: 26-character ULIDs (time-ordered, unique across peers).
 * Within one millisecond the random part counts up (ULID's monotonic mode), so
 * ids made together sort in creation order; clock and randomness are
 * parameters so tests and replay can fix them.
 */
const CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

export type IdGenerator = () => string;

export function createIdGenerator(now: () => number = Date.now, random: () => number = Math.random): IdGenerator {
  let lastTime = -1;
  let lastRandom: number[] = [];
  return () => {
    const ms = Math.floor(now());
    if (ms === lastTime) {
      increment(lastRandom);
    } else {
      lastTime = ms;
      lastRandom = Array.from({ length: 16 }, () => Math.floor(random() * 32));
      // Leave headroom so counting up within a millisecond cannot overflow in practice.
      lastRandom[0] &= 0x0f;
    }
    let t = ms;
    let time = "";
    for (let i = 0; i < 10; i++) {
      time = CROCKFORD[t % 32] + time;
      t = Math.floor(t / 32);
    }
    let rand = "";
    for (const d of lastRandom) rand += CROCKFORD[d];
    return time + rand;
  };
}

function increment(digits: number[]): void {
  for (let i = digits.length - 1; i >= 0; i--) {
    if (digits[i] < 31) {
      digits[i]++;
      return;
    }
    digits[i] = 0;
  }
}
