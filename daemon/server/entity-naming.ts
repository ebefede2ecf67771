/**
 * Names beside ids in what the daemon tells people: error messages sent to
 * clients, run and trigger failures, log lines. An entity id (a ULID) in the
 * text becomes `Q12 Blackout (01J...)`, the name coming from the one naming
 * rule (crdt/entity-name.ts). Ids that are no entity (runs, sessions, edges
 * that do not resolve) are left as they are.
 */
import { isOpenprodError } from "../crdt/vocabulary.ts";
import { entityName } from "../crdt/index.ts";
import type { WorkspaceStore } from "../crdt/index.ts";

/** An entity id as the store makes them: 26 characters of Crockford base32. */
const ENTITY_ID = /(?<![0-9A-Za-z])[0-9A-HJKMNP-TV-Z]{26}(?![0-9A-Za-z])/g;

export type NameOf = (id: string) => string | undefined;

/** The entity's name now, or undefined when the store has no such live entity. */
export function storeNames(store: Pick<WorkspaceStore, "getEntity" | "schema">): NameOf {
  return (id) => {
    try {
      return entityName(store.getEntity(id), store.schema);
    } catch {
      return undefined;
    }
  };
}

/** `text` with each entity id it mentions shown after its name: `Q12 Blackout (01J...)`. */
export function nameIdsIn(text: string, nameOf: NameOf): string {
  return text.replace(ENTITY_ID, (id, offset: number) => {
    const name = nameOf(id);
    if (name === undefined) return id;
    // Already named by whoever wrote the message.
    if (text.slice(Math.max(0, offset - name.length - 2), offset) === `${name} (`) return id;
    return `${name} (${id})`;
  });
}

/** The same error with entity names in its message (its details keep the bare ids for programs). */
export function withEntityNames(e: unknown, nameOf: NameOf): unknown {
  if (!isOpenprodError(e)) return e;
  const named = nameIdsIn(e.message, nameOf);
  if (named !== e.message) e.message = named;
  return e;
}
