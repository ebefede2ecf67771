/**
 * Scripts run the same few query strings over and over (often in a loop), so
 * parsed queries are kept by source text, least recently used dropped first.
 * Parsed queries are immutable and safe to share; failures are not cached.
 */
import type { ParsedQuery } from "./ast.ts";
import { parseQueryUncached } from "./parser.ts";

export class ParseCache {
  private readonly entries = new Map<string, ParsedQuery>();

  constructor(readonly capacity = 500) {}

  get(source: string): ParsedQuery {
    const hit = this.entries.get(source);
    if (hit !== undefined) {
      // Re-insert so Map iteration order doubles as recency order.
      this.entries.delete(source);
      this.entries.set(source, hit);
      return hit;
    }
    const parsed = parseQueryUncached(source);
    this.entries.set(source, parsed);
    if (this.entries.size > this.capacity) {
      const oldest = this.entries.keys().next();
      if (!oldest.done) this.entries.delete(oldest.value);
    }
    return parsed;
  }

  get size(): number {
    return this.entries.size;
  }
}

const shared = new ParseCache();

/** Parse a query (syntax only; names and placeholders are resolved at execution). Cached. */
export function parseQuery(source: string): ParsedQuery {
  return shared.get(source);
}
