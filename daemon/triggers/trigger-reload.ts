/**
 * Whether a show's triggers, loaded again after its files changed, may replace
 * the ones in force. At start a trigger on a cycle is only left out; while the
 * daemon runs, a change that would put a trigger on a cycle (or leaves a
 * trigger naming a missing script, or any mistake in `[trigger.*]` or a
 * capability list) is refused as a whole, so the trigger set in force never
 * silently loses a trigger. A trigger already left out keeps being left out.
 */
import { ConfigError } from "../crdt/vocabulary.ts";
import type { ShowTriggers } from "./show-triggers.ts";

export function triggerReloadRefusal(inForce: Pick<ShowTriggers, "rejected">, next: ShowTriggers): ConfigError | null {
  if (next.errors.length > 0) {
    const [first] = next.errors;
    const more = next.errors.length > 1 ? ` (and ${next.errors.length - 1} more mistake(s) in [trigger.*] / capabilities)` : "";
    return new ConfigError(`${first.message}${more}`, first.details);
  }
  const before = new Set(inForce.rejected.map((r) => r.name));
  const cycle = next.rejected.find((r) => !before.has(r.name));
  return cycle ? new ConfigError(cycle.error.message, { file: cycle.file, line: cycle.line, trigger: cycle.name }) : null;
}
