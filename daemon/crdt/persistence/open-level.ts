/**
 * Opening the LevelDB of a workspace store, with LevelDB's failures turned
 * into StorageErrors a technician can act on. Nothing here ever repairs or
 * rewrites a damaged database: that decision belongs to a person.
 */

import fs from "node:fs";
import path from "node:path";
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

const LOCKED = "LEVEL_LOCKED";

/** The store was in use by another process: this is the only place that tells (by LevelDB's code). */
export interface StoreLocked {
  /** The holder of the LOCK, when /proc tells. */
  holderPid?: number;
  holderCommand?: string;
}

/** What the StorageError `e` says about the process holding the store, or undefined if `e` is no "store in use" error. */
export function lockedStore(e: unknown): StoreLocked | undefined {
  if (!(e instanceof StorageError) || e.details.levelCode !== LOCKED) return undefined;
  const { holderPid, holderCommand } = e.details;
  return {
    ...(typeof holderPid === "number" ? { holderPid } : {}),
    ...(typeof holderCommand === "string" ? { holderCommand } : {}),
  };
}

function openError(dir: string, e: unknown): StorageError {
  const cause = rootCause(e);
  const code = levelCode(cause) ?? levelCode(e);
  const reason = messageOf(cause);
  const details = { dir, levelCode: code, reason };
  if (code === LOCKED) {
    const holder = lockHolder(dir);
    const who = holder === undefined ? "another process (pid unknown)" : `process ${holder.pid} (${holder.command})`;
    return new StorageError(
      `the workspace store at ${dir} is in use by ${who}, which holds its LOCK; stop it or use another show directory (${reason})`,
      { ...details, holderPid: holder?.pid, holderCommand: holder?.command },
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

/**
 * Who holds the POSIX lock LevelDB takes on `<dir>/LOCK`, from /proc/locks
 * (Linux); undefined where that cannot be told.
 */
export function lockHolder(dir: string): { pid: number; command: string } | undefined {
  try {
    const inode = fs.statSync(path.join(dir, "LOCK")).ino;
    for (const line of fs.readFileSync("/proc/locks", "utf8").split("\n")) {
      // "1: POSIX  ADVISORY  WRITE 12345 08:01:1234567 0 EOF"
      const f = line.trim().split(/\s+/);
      if (f[1] !== "POSIX" || f.length < 6 || Number(f[5].split(":")[2]) !== inode) continue;
      const pid = Number(f[4]);
      let command = "command unknown";
      try {
        command = fs.readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").filter(Boolean).join(" ") || command;
      } catch {
        // The process may have exited meanwhile, or belong to another user.
      }
      return { pid, command };
    }
  } catch {
    // No /proc (not Linux) or no LOCK file: the holder cannot be told.
  }
  return undefined;
}

/** The store's files are the owner's alone, whatever the umask: directory 0700, files 0600. */
export function restrictModes(dir: string): void {
  try {
    fs.chmodSync(dir, 0o700);
    for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
      if (e.isFile()) fs.chmodSync(path.join(dir, e.name), 0o600);
    }
  } catch (e) {
    // A file LevelDB just deleted is no file to protect; anything else is a real failure.
    if ((e as NodeJS.ErrnoException).code !== "ENOENT") throw ioError(dir, "restricting file modes to the owner", e);
  }
}

export async function openLevel(dir: string, createIfMissing: boolean): Promise<StoreDb> {
  if (createIfMissing) fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
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
