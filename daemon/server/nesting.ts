/**
 * How deep a request may nest. JSON.parse is iterative and accepts a value a
 * hundred thousand levels deep, but everything after it recurses (the params
 * checks, the store's value conversion, JSON.stringify of an error that quotes
 * the value), so such a request is refused as it arrives, before any of them
 * can overflow the stack.
 */
export const MAX_REQUEST_NESTING = 64;

/** True when `value` has arrays or objects nested more than `max` levels deep (checked without recursion). */
export function nestedDeeperThan(value: unknown, max: number): boolean {
  const stack: [unknown, number][] = [[value, 0]];
  while (stack.length > 0) {
    const [v, depth] = stack.pop() as [unknown, number];
    if (typeof v !== "object" || v === null) continue;
    if (depth >= max) return true;
    for (const child of Array.isArray(v) ? v : Object.values(v)) {
      if (typeof child === "object" && child !== null) stack.push([child, depth + 1]);
    }
  }
  return false;
}
