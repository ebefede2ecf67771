import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { FIRST_KEY, keyBetween, positionBetween } from "../daemon/crdt/fractional-index.ts";

const DIGITS = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/** Keys as the store makes them: digits of the alphabet, never ending in the zero digit. */
const key = fc
  .string({ unit: fc.constantFrom(...DIGITS), minLength: 1, maxLength: 8 })
  .filter((s) => !s.endsWith("0"));

/** Two distinct keys in order, either end possibly open (null). */
const bounds = fc
  .tuple(fc.option(key, { nil: null }), fc.option(key, { nil: null }))
  .filter(([a, b]) => a === null || b === null || a !== b)
  .map(([a, b]) => (a !== null && b !== null && a > b ? [b, a] : [a, b]) as [string | null, string | null]);

function strictlyBetween(k: string, a: string | null, b: string | null): boolean {
  return (a === null || a < k) && (b === null || k < b) && !k.endsWith("0");
}

describe("an ordered position can always be made between two neighbours", () => {
  it("keyBetween is strictly between its bounds and never ends in the zero digit", () => {
    fc.assert(
      fc.property(bounds, ([a, b]) => {
        expect(strictlyBetween(keyBetween(a, b), a, b)).toBe(true);
      }),
      { numRuns: 2000 },
    );
  });

  it("positionBetween (with its random suffix) is strictly between too", () => {
    fc.assert(
      fc.property(bounds, fc.double({ min: 0, max: 0.9999999, noNaN: true }), ([a, b], r) => {
        expect(strictlyBetween(positionBetween(a, b, () => r), a, b)).toBe(true);
      }),
      { numRuns: 2000 },
    );
  });

  it("repeated inserts at random places keep a strictly increasing list", () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.nat(), fc.double({ min: 0, max: 0.9999999, noNaN: true })), { minLength: 1, maxLength: 200 }), (steps) => {
        const list: string[] = [FIRST_KEY];
        for (const [where, r] of steps) {
          const i = where % (list.length + 1);
          const k = positionBetween(i === 0 ? null : list[i - 1], i === list.length ? null : list[i], () => r);
          list.splice(i, 0, k);
        }
        for (let i = 1; i < list.length; i++) expect(list[i - 1] < list[i]).toBe(true);
      }),
      { numRuns: 200 },
    );
  });

  it("bounds in the wrong order are refused", () => {
    expect(() => keyBetween("B", "A")).toThrow(RangeError);
    expect(() => keyBetween("A", "A")).toThrow(RangeError);
  });
});
