/**
 * The store's files as they were before LevelDB opened them. Opening is not
 * read-only: recovery replays the log into a new table, writes a new MANIFEST
 * and deletes the old log. When what LevelDB then finds turns out to be less
 * than was acknowledged, the store is refused, and the technician must find
 * the files exactly as they were. LevelDB never changes a file in place (it
 * only creates new ones and deletes or renames old ones), so hard links taken
 * before the open keep every old file's bytes at no cost, and restoring them
 * puts the directory back.
 */

import fs from "node:fs";
import path from "node:path";
import { ioError } from "./open-level.ts";
import { storeFiles } from "./store-copy.ts";

const PREFIX = ".preopen-";
/** LevelDB's info log: rotated on every open, it holds no data; keeping the new one tells what the open saw. */
const NOT_DATA = new Set(["LOG", "LOG.old"]);

export interface PreservedFiles {
  /** The open is accepted: drop the links. */
  release(): void;
  /** Puts the directory back as it was (LevelDB must be closed), then drops the links. */
  restore(): void;
}

export function preserveFiles(dir: string): PreservedFiles {
  // Links left by a process that died between open and acceptance: the files they keep are not needed.
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    if (e.isDirectory() && e.name.startsWith(PREFIX) && !alive(Number(e.name.slice(PREFIX.length)))) {
      fs.rmSync(path.join(dir, e.name), { recursive: true, force: true });
    }
  }
  const keep = path.join(dir, `${PREFIX}${process.pid}`);
  const names = storeFiles(dir).filter((n) => !NOT_DATA.has(n));
  try {
    fs.mkdirSync(keep, { mode: 0o700 });
    for (const name of names) fs.linkSync(path.join(dir, name), path.join(keep, name));
  } catch (e) {
    fs.rmSync(keep, { recursive: true, force: true });
    throw ioError(dir, "keeping the store's files before opening it", e);
  }
  const release = (): void => fs.rmSync(keep, { recursive: true, force: true });
  return {
    release,
    restore() {
      const before = new Set(names);
      try {
        for (const name of storeFiles(dir)) {
          if (!before.has(name) && !NOT_DATA.has(name)) fs.rmSync(path.join(dir, name), { force: true });
        }
        for (const name of names) fs.renameSync(path.join(keep, name), path.join(dir, name));
      } catch (e) {
        throw ioError(dir, `putting the store's files back as they were (the originals are in ${keep})`, e);
      }
      release();
    },
  };
}

function alive(pid: number): boolean {
  if (!Number.isSafeInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    // EPERM: it exists but belongs to someone else.
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
}
