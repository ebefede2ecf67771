/**
 * Files of the scratch show (the runner's copy of the show folder) as a test changes them:
 * `sim.fs.write(path, content)` writes one, scripts read it and their fs.watch sees it change;
 * after the test each file is put back as it was (or removed).
 */
import { existsSync, mkdirSync } from "node:fs";
import { readFile, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import { InvalidOperation } from "../../crdt/index.ts";

export class ShowFiles {
  /** Path → content before the test first wrote it (null: it did not exist). */
  private readonly before = new Map<string, string | null>();

  constructor(readonly root: string) {}

  /** `rel` inside the show, relative, no `..` out of it; the absolute path. */
  resolve(rel: string, call: string): string {
    const abs = path.resolve(this.root, rel);
    const inside = path.relative(this.root, abs);
    if (path.isAbsolute(rel) || inside.startsWith("..") || inside === "" || inside.split(path.sep)[0] === ".openprod") {
      throw new InvalidOperation(`${call}: ${JSON.stringify(rel)} must be a path inside the show folder, relative to it (e.g. "imports/show.lw6.xml")`, { path: rel });
    }
    return abs;
  }

  async write(rel: string, content: string): Promise<void> {
    const abs = this.resolve(rel, "sim.fs.write");
    if (!this.before.has(abs)) this.before.set(abs, existsSync(abs) ? await readFile(abs, "utf8") : null);
    mkdirSync(path.dirname(abs), { recursive: true });
    await writeFile(abs, content);
  }

  async remove(rel: string): Promise<void> {
    const abs = this.resolve(rel, "sim.fs.remove");
    if (!this.before.has(abs)) this.before.set(abs, existsSync(abs) ? await readFile(abs, "utf8") : null);
    await rm(abs, { force: true });
  }

  async read(rel: string): Promise<string | null> {
    const abs = this.resolve(rel, "sim.fs.read");
    return existsSync(abs) ? readFile(abs, "utf8") : null;
  }

  /** Every file the test wrote, back as it was. */
  async restore(): Promise<void> {
    for (const [abs, content] of this.before) {
      if (content === null) await rm(abs, { force: true });
      else await writeFile(abs, content);
    }
    this.before.clear();
  }
}
