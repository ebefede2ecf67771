/**
 * Which test files a run takes: `*_test.lua` under `workspace/tests/` and
 * `modules/<m>/tests/` of a show, or under the paths given (files or folders).
 */
import { readdirSync, statSync } from "node:fs";
import path from "node:path";
import { InvalidOperation } from "../crdt/index.ts";

const TEST_FILE = /_test\.lua$/;

function walk(dir: string, out: string[]): void {
  let entries;
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return;
  }
  for (const e of entries.sort((a, b) => a.name.localeCompare(b.name))) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) walk(p, out);
    else if (TEST_FILE.test(e.name)) out.push(p);
  }
}

/** Absolute paths, sorted, without duplicates. A given path that does not exist: InvalidOperation. */
export function findTestFiles(showRoot: string, paths: readonly string[] = []): string[] {
  const out: string[] = [];
  if (paths.length === 0) {
    walk(path.join(showRoot, "workspace", "tests"), out);
    let modules: string[] = [];
    try {
      modules = readdirSync(path.join(showRoot, "modules")).sort();
    } catch {
      modules = [];
    }
    for (const m of modules) walk(path.join(showRoot, "modules", m, "tests"), out);
  } else {
    for (const given of paths) {
      const p = path.resolve(given);
      let st;
      try {
        st = statSync(p);
      } catch {
        throw new InvalidOperation(`no test file or folder at ${given}`, { path: given });
      }
      if (st.isDirectory()) walk(p, out);
      else if (TEST_FILE.test(p)) out.push(p);
      else throw new InvalidOperation(`${given} is not a test file (test files are named *_test.lua)`, { path: given });
    }
  }
  return [...new Set(out)];
}
