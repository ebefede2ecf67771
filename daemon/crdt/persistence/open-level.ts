/**
 * Opening the LevelDB of a workspace store, with LevelDB's failures turned
 * into StorageErrors a technician can act on. Nothing here ever repairs or
 * rewrites a damaged database: that decision belongs to a person.
 */

import { Level } from "level";
import { StorageError } from "../errors.ts";

/** String keys, byte values: the only shape this store uses. */
export type StoreDb = Level<string, Uint8Array>;

function levelCode(e: unknown): string | undefined {
  if (typeof e === "object" && e !== null && "code" in e && typeof e.code === "string") return e.code;
  return undefined;
}

function messageOf(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** LevelDB reports open failures as LEVEL_DATABASE_NOT_OPEN with the real reason in `cause`. */
function rootCause(e: unknown): unknown {
  if (e instanceof Error && e.cause !== undefined) return e.cause;
  return e;
}

export function openError(dir: string, e: unknown): StorageError {
  const cause = rootCause(e);
  const code = levelCode(cause) ?? levelCode(e);
  const reason = messageOf(cause);
  const details = { dir, levelCode: code, reason };
  if (code === "LEVEL_LOCKED") {
    return new StorageError(
      `the workspace store at ${dir} is in use by another openprod daemon (LOCK held); stop that daemon or use another show directory (${reason})`,
      details,
    );
  }
  if (code === "LEVEL_CORRUPTION") {
    return new StorageError(
      `the workspace store at ${dir} is corrupt and was left untouched: ${reason}. Move the directory aside and resync from a peer, or restore a backup`,
      details,
    );
  }
  return new StorageError(`cannot open the workspace store at ${dir}: ${reason}`, details);
}

export function ioError(dir: string, what: string, e: unknown): StorageError {
  const cause = rootCause(e);
  return new StorageError(`${what} failed in the workspace store at ${dir}: ${messageOf(cause)}`, {
    dir,
    levelCode: levelCode(cause) ?? levelCode(e),
    reason: messageOf(cause),
  });
}

export async function openLevel(dir: string, createIfMissing: boolean): Promise<StoreDb> {
  const db = new Level<string, Uint8Array>(dir, {
    keyEncoding: "utf8",
    valueEncoding: "view",
    createIfMissing,
    errorIfExists: false,
  });
  try {
    await db.open();
  } catch (e) {
    throw openError(dir, e);
  }
  return db;
}
