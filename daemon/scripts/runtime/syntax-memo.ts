/**
 * A run checks its script's syntax before it starts, and a trigger runs the same script
 * thousands of times: each check is a trip to a Lua worker (queued behind the runs it hosts)
 * and a compile. The answer depends only on the source and the chunk name, so the last source
 * of each chunk that compiled is remembered and a run of that same source skips the trip.
 * Failures are not remembered: a broken script is checked (and reported) on every run, as before.
 */
import type { SyntaxProblem } from "../engine/index.ts";

type SyntaxCheck = (source: string, chunkName: string) => Promise<SyntaxProblem | null>;

/** Chunks remembered at most; past it the memo starts over (a show has far fewer scripts). */
const MAX_CHUNKS = 1024;

export function memoizedSyntaxCheck(check: SyntaxCheck): SyntaxCheck {
  const compiled = new Map<string, string>();
  return async (source, chunkName) => {
    if (compiled.get(chunkName) === source) return null;
    const problem = await check(source, chunkName);
    if (problem === null) {
      if (compiled.size >= MAX_CHUNKS && !compiled.has(chunkName)) compiled.clear();
      compiled.set(chunkName, source);
    }
    return problem;
  };
}
