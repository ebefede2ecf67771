/**
 * A scratch copy of the example show (without its .openprod/ state) for tests that add scripts
 * and test files to it: `openprod test` runs against it, never against examples/show itself.
 */
import { cpSync, mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";

export const REPO_ROOT = path.resolve(import.meta.dirname, "..", "..");

/** Copies examples/show into a new temporary directory named after `prefix`; returns its path. */
export function copyExampleShow(prefix: string): string {
  const dir = mkdtempSync(path.join(tmpdir(), prefix));
  cpSync(path.join(REPO_ROOT, "examples", "show"), dir, { recursive: true, filter: (src) => path.basename(src) !== ".openprod" });
  return dir;
}

/** Writes `source` at `rel` inside `show` (folders made as needed); returns the file's path. */
export function writeShowFile(show: string, rel: string, source: string): string {
  const file = path.join(show, rel);
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, source);
  return file;
}
