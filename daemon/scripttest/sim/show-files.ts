/**
 * Files of the scratch show (the runner's copy of the show folder) as a test changes them:
 * `sim.fs.write(path, content)` writes one, scripts read it and their fs.watch sees it change;
 * after the test each file is put back as it was (or removed).
 */
import { existsSync, mkdirSync } from "node:fs";
import { readFile, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import { InvalidOperation } from "../../crdt/index.ts";
import type { FsEvent } from "../../scripts/fs/index.ts";

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

  /** Writes it; the change as fs.watch reports it. */
  async write(rel: string, content: string): Promise<FsEvent> {
    const abs = this.resolve(rel, "sim.fs.write");
    const existed = existsSync(abs);
    if (!this.before.has(abs)) this.before.set(abs, existed ? await readFile(abs, "utf8") : null);
    mkdirSync(path.dirname(abs), { recursive: true });
    await writeFile(abs, content);
    return { type: existed ? "modified" : "created", path: this.showPath(abs) };
  }

  /** Removes it; the change as fs.watch reports it (null: there was no such file). */
  async remove(rel: string): Promise<FsEvent | null> {
    const abs = this.resolve(rel, "sim.fs.remove");
    const existed = existsSync(abs);
    if (!this.before.has(abs)) this.before.set(abs, existed ? await readFile(abs, "utf8") : null);
    await rm(abs, { force: true });
    return existed ? { type: "deleted", path: this.showPath(abs) } : null;
  }

  /** Show-relative with "/", as scripts name files. */
  private showPath(abs: string): string {
    return path.relative(this.root, abs).split(path.sep).join("/");
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
