import { InvalidOperation } from "../errors.ts";
import type { ErrorDetails } from "../errors.ts";

/** What the text being parsed is called in messages. */
export type SourceKind = "query" | "condition";

/**
 * `query "table == 'cues' AND numbr == ?" at column 21: unknown field "numbr" ...`:
 * the text, the 1-based column and the problem, so the author can find it.
 */
export function syntaxError(
  kind: SourceKind,
  source: string,
  column: number,
  problem: string,
  details: ErrorDetails = {},
): InvalidOperation {
  return new InvalidOperation(`${kind} ${JSON.stringify(source)} at column ${column}: ${problem}`, {
    ...details,
    [kind]: source,
    column,
  });
}
