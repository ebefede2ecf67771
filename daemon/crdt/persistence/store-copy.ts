/**
 * A private copy of a store's files. LevelDB writes to its directory even
 * when only reading (a lock, a new log, a new MANIFEST, compactions, and its
 * recovery deletes a log it cannot read), so every read that must leave the
 * store as it is (offline CLI commands, `store inspect`, assessing damage)
 * opens a copy. The copy takes no LOCK on the store, so a daemon can start
 * meanwhile.
 */

import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { ioError } from "./open-level.ts";

const ATTEMPTS = 3;

export interface StoreCopy {
  /** The copy's directory. */
  readonly dir: string;
  /** The file names copied, sorted. */
  readonly names: string[];
  /** True if the store's file set changed while it was copied (a running daemon): the copy may be inconsistent. */
  changedSince(): boolean;
  /** Takes the copy again (after changedSince()). */
  retake(): void;
  remove(): void;
}

/** LevelDB's own files in `dir` (not its LOCK, nor anything that is not a regular file). */
export function storeFiles(dir: string): string[] {
  return fs
    .readdirSync(dir, { withFileTypes: true })
    .filter((e) => e.isFile() && e.name !== "LOCK")
    .map((e) => e.name)
    .sort();
}

function copyStore(source: string): StoreCopy {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "openprod-store-copy-"));
  let names: string[] = [];
  const take = (): void => {
    // A running daemon may delete a table file between listing and copying it; listing again settles it.
    for (let attempt = 1; ; attempt++) {
      try {
        for (const name of fs.readdirSync(dir)) fs.rmSync(path.join(dir, name), { force: true });
        names = storeFiles(source);
        for (const name of names) fs.copyFileSync(path.join(source, name), path.join(dir, name), fs.constants.COPYFILE_FICLONE);
        return;
      } catch (e) {
        if (attempt >= ATTEMPTS) throw ioError(source, "copying the store", e);
      }
    }
  };
  try {
    take();
  } catch (e) {
    fs.rmSync(dir, { recursive: true, force: true });
    throw e;
  }
  return {
    dir,
    get names() {
      return names;
    },
    changedSince: () => storeFiles(source).join("/") !== names.join("/"),
    retake: take,
    remove: () => fs.rmSync(dir, { recursive: true, force: true }),
  };
}

/**
 * Opens a copy with `open`, taking it again when a running daemon changed the
 * file set meanwhile (and only then). `open` failing on a copy that is still
 * current is a real error, rethrown with the copy's path replaced by the store's.
 */
export async function openCopy<T>(source: string, open: (copyDir: string) => Promise<T>): Promise<{ copy: StoreCopy; value: T }> {
  const copy = copyStore(source);
  for (let attempt = 1; ; attempt++) {
    try {
      return { copy, value: await open(copy.dir) };
    } catch (e) {
      if (copy.changedSince() && attempt < ATTEMPTS) {
        copy.retake();
        continue;
      }
      copy.remove();
      throw renameDir(e, copy.dir, source);
    }
  }
}

/** The same error with every mention of `from` (a copy) replaced by `to` (the real store). */
export function renameDir(e: unknown, from: string, to: string): unknown {
  if (!(e instanceof Error)) return e;
  e.message = e.message.replaceAll(from, to);
  if ("details" in e && typeof e.details === "object" && e.details !== null) {
    const details = e.details as Record<string, unknown>;
    for (const [k, v] of Object.entries(details)) if (typeof v === "string") details[k] = v.replaceAll(from, to);
  }
  return e;
}
