/**
 * Entity and edge ids: 26-character ULIDs (time-ordered, unique across peers).
 * Clock and randomness are parameters so tests and replay can fix them.
 */
const CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

export type IdGenerator = () => string;

export function createIdGenerator(now: () => number = Date.now, random: () => number = Math.random): IdGenerator {
  return () => {
    let t = Math.floor(now());
    let time = "";
    for (let i = 0; i < 10; i++) {
      time = CROCKFORD[t % 32] + time;
      t = Math.floor(t / 32);
    }
    let rand = "";
    for (let i = 0; i < 16; i++) rand += CROCKFORD[Math.floor(random() * 32)];
    return time + rand;
  };
}
