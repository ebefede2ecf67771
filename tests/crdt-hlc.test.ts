import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { HybridLogicalClock, formatHlc, parseHlc } from "../daemon/crdt/hlc.ts";
import { USER, openTestStore, tempDir } from "./helpers/store-fixture.ts";
import { createFixture } from "./fixtures/store-pair.ts";

const step = fc.oneof(
  fc.record({ kind: fc.constant("tick" as const), wall: fc.integer({ min: 0, max: 3_000_000 }) }),
  fc.record({
    kind: fc.constant("observe" as const),
    wall: fc.integer({ min: 0, max: 3_000_000 }),
    remote: fc.record({ wall: fc.integer({ min: 0, max: 3_000_000 }), counter: fc.oneof(fc.nat(5), fc.constant(999_999)), peer: fc.constantFrom("p1", "p2", "zz") }),
  }),
);

describe("the hybrid logical clock only moves forward", () => {
  it("every tick is later than everything issued or observed before, whatever the wall clock does", () => {
    fc.assert(
      fc.property(fc.array(step, { minLength: 1, maxLength: 200 }), (steps) => {
        let wall = 0;
        const clock = new HybridLogicalClock("me", () => wall);
        let highest = "";
        for (const s of steps) {
          wall = s.wall;
          if (s.kind === "tick") {
            const t = clock.tick();
            expect(t > highest).toBe(true);
            expect(parseHlc(t).wall).toBeGreaterThanOrEqual(s.wall);
            highest = t;
          } else {
            const r = formatHlc(s.remote);
            clock.observe(r);
            // What is observed orders by (wall, counter): the next tick beats it whatever its peer id.
            const next = parseHlc(clock.tick());
            expect(next.wall > s.remote.wall || (next.wall === s.remote.wall && next.counter > s.remote.counter)).toBe(true);
            highest = clock.last();
          }
          expect(clock.last() >= highest).toBe(true);
        }
      }),
      { numRuns: 500 },
    );
  });

  it("string order is clock order", () => {
    fc.assert(
      fc.property(
        fc.record({ wall: fc.nat(2 ** 45), counter: fc.nat(999_999), peer: fc.constantFrom("a", "b") }),
        fc.record({ wall: fc.nat(2 ** 45), counter: fc.nat(999_999), peer: fc.constantFrom("a", "b") }),
        (x, y) => {
          const byFields = x.wall - y.wall || x.counter - y.counter || (x.peer < y.peer ? -1 : x.peer > y.peer ? 1 : 0);
          const byString = formatHlc(x) < formatHlc(y) ? -1 : formatHlc(x) > formatHlc(y) ? 1 : 0;
          expect(Math.sign(byString)).toBe(Math.sign(byFields));
        },
      ),
    );
  });
});

describe("the store's clock stays monotonic across restarts", () => {
  it("a reopened store whose wall clock went backwards still stamps later HLCs", async () => {
    const tmp = tempDir("openprod-store-hlc-");
    try {
      let wall = 2_000_000_000_000;
      let store = await openTestStore(tmp.dir, { now: () => wall });
      const id = await createFixture(store, { unit_number: "A1", channel: 1 });
      let last = (await store.apply([{ op: "SetField", id, field: "channel", value: 2 }], USER)).hlc;
      await store.close();
      wall = 1_000_000_000_000; // the machine's clock was set back years
      store = await openTestStore(tmp.dir, { now: () => wall });
      for (let i = 3; i < 8; i++) {
        const r = await store.apply([{ op: "SetField", id, field: "channel", value: i }], USER);
        expect(r.hlc > last).toBe(true);
        last = r.hlc;
      }
      const history = await store.history();
      expect(history[0].meta.hlc).toBe(last);
      await store.close();
    } finally {
      tmp.cleanup();
    }
  });
});
