// What a run needs at its start is kept between runs of the same script where that cannot change
// what the run sees: a watched catalog keeps sources (and still sees every edit, however an
// editor saves), a syntax check is not repeated for a source that compiled, a source already
// stored for the run records is not written again, and core.get_field reads one field with the
// answers it always gave.
import { mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, unlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseWorkspaceConfig } from "../daemon/config/index.ts";
import type { SyntaxProblem } from "../daemon/scripts/engine/index.ts";
import { showScripts } from "../daemon/scripts/runtime/index.ts";
import { ScriptSourceStore } from "../daemon/scripts/runtime/script-source-store.ts";
import { memoizedSyntaxCheck } from "../daemon/scripts/runtime/syntax-memo.ts";
import { USER, openKit } from "./fixtures/runtime-kit/kit.ts";
import type { Kit } from "./fixtures/runtime-kit/kit.ts";

let root: string;
const file = (): string => path.join(root, "workspace", "scripts", "hello.lua");
const source = (v: string): string => `function main() log.info("${v}") end\n`;

beforeAll(() => {
  root = mkdtempSync(path.join(tmpdir(), "openprod-catalog-"));
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

function catalog(watched: boolean): { load: (id: string) => Promise<string>; reads: () => number; changed: (id: string) => void } {
  const config = parseWorkspaceConfig(path.join(root, "openprod.toml"), `[workspace]\nname = "c"\nid = "c"\n[script.hello]\n`);
  let reads = 0;
  const c = showScripts({
    root,
    config,
    modules: [],
    watched,
    readFile: async (f) => {
      reads++;
      return readFileSync(f, "utf8");
    },
  });
  return { load: async (id) => (await c.load(id)).source, reads: () => reads, changed: (id) => c.changed?.(id) };
}

describe("a watched catalog reads a script once and still sees every edit at the next run", () => {
  it("keeps the source while the file is unchanged, and reads it again after an in-place write, a save-by-rename, a delete and a re-create", async () => {
    mkdirSync(path.dirname(file()), { recursive: true });
    writeFileSync(file(), source("v0"));
    const c = catalog(true);
    expect(await c.load("hello")).toBe(source("v0"));
    expect(await c.load("hello")).toBe(source("v0"));
    expect(c.reads()).toBe(1);

    // In place, another size: the next load sees it without the watcher saying anything.
    writeFileSync(file(), source("v10"));
    expect(await c.load("hello")).toBe(source("v10"));

    // An editor's save-by-rename of a same-size version: a new inode.
    const temp = path.join(path.dirname(file()), ".hello.lua.swp");
    writeFileSync(temp, source("v11"));
    renameSync(temp, file());
    expect(await c.load("hello")).toBe(source("v11"));

    // Gone: the same error as without the cache; back: read again.
    unlinkSync(file());
    await expect(c.load("hello")).rejects.toMatchObject({ code: "EntityNotFound" });
    writeFileSync(file(), source("v12"));
    expect(await c.load("hello")).toBe(source("v12"));
  });

  it("a same-size rewrite in place is seen once the watcher reports it (runtime.fileChanged calls changed)", async () => {
    writeFileSync(file(), source("a1"));
    const c = catalog(true);
    expect(await c.load("hello")).toBe(source("a1"));
    writeFileSync(file(), source("a2"));
    c.changed("hello");
    expect(await c.load("hello")).toBe(source("a2"));
  });

  it("an unwatched catalog reads the file on every load, as before", async () => {
    writeFileSync(file(), source("u1"));
    const c = catalog(false);
    await c.load("hello");
    await c.load("hello");
    expect(c.reads()).toBe(2);
  });
});

describe("a syntax check is not repeated for a source that already compiled", () => {
  it("checks a new source once, a changed one again, and a broken one every time", async () => {
    const calls: string[] = [];
    const check = memoizedSyntaxCheck(async (src, chunk): Promise<SyntaxProblem | null> => {
      calls.push(src);
      return src.includes("(") ? null : { type: "SyntaxError", file: chunk, line: 1, column: 1, message: "broken" };
    });
    expect(await check("ok()", "a.lua")).toBeNull();
    expect(await check("ok()", "a.lua")).toBeNull();
    expect(await check("ok2()", "a.lua")).toBeNull();
    expect(await check("ok()", "b.lua")).toBeNull();
    expect(await check("broken", "a.lua")).toMatchObject({ message: "broken" });
    expect(await check("broken", "a.lua")).toMatchObject({ message: "broken" });
    expect(calls).toEqual(["ok()", "ok2()", "ok()", "broken", "broken"]);
  });
});

describe("a run's script source is stored once per version", () => {
  it("writes a hash's record again only when it would hold something else (another path)", async () => {
    const written: [string, unknown][] = [];
    const records = { putJson: async (key: string, value: unknown) => void written.push([key, value]) };
    const sources = new ScriptSourceStore({ records: () => records } as unknown as ConstructorParameters<typeof ScriptSourceStore>[0]);
    await sources.put("h1", { path: "a.lua", source: "x" });
    await sources.put("h1", { path: "a.lua", source: "x" });
    await sources.put("h1", { path: "b.lua", source: "x" });
    await sources.put("h1", { path: "a.lua", source: "x" });
    expect(written).toEqual([
      ["h1", { path: "a.lua", source: "x" }],
      ["h1", { path: "b.lua", source: "x" }],
      ["h1", { path: "a.lua", source: "x" }],
    ]);
  });

  it("a failed write is tried again by the next run", async () => {
    let fail = true;
    let attempts = 0;
    const records = {
      putJson: async () => {
        attempts++;
        if (fail) throw new Error("disk full");
      },
    };
    const sources = new ScriptSourceStore({ records: () => records } as unknown as ConstructorParameters<typeof ScriptSourceStore>[0]);
    await expect(sources.put("h", { path: "a.lua", source: "x" })).rejects.toThrow("disk full");
    fail = false;
    await sources.put("h", { path: "a.lua", source: "x" });
    await sources.put("h", { path: "a.lua", source: "x" });
    expect(attempts).toBe(2);
  });
});

describe("core.get_field answers the same in autoCommit (one field read) as in a session", () => {
  let kit: Kit;
  let cue: string;
  beforeAll(async () => {
    kit = await openKit();
    cue = (await kit.store.apply([{ op: "CreateEntity", tables: ["lighting_cues"], fields: { number: 12, label: "Go", order_index: 1 } }], USER)).results[0]?.id as string;
  });
  afterAll(() => kit.close());

  const probe = `
    local function try(f, ...) local ok, v = pcall(f, ...) if ok then return v end return v.type end
    local n = core.get_field(args.cue, "number")
    log.info(math.type(n), n, core.get_field(args.cue, "lighting.cue.label"), tostring(core.get_field(args.cue, "fired_at")),
      try(core.get_field, "no-such-entity", "number"), try(core.get_field, args.cue, "numbr"))
  `;

  it("a float field as a Lua float, by short name or full key, nil when unset, and the same errors", async () => {
    const lines: string[] = [];
    for (const mode of ["session", "autoCommit"] as const) {
      const r = await kit.lua(probe, { executionMode: mode }, { args: { cue } });
      expect(r.error).toBeUndefined();
      const log = kit.events.find((e) => e.type === "log" && e.runId === r.runId);
      lines.push(log?.type === "log" ? log.message : "");
    }
    expect(lines[0].split("\t")).toEqual(["float", "12", "Go", "nil", "EntityNotFound", "FieldNotFound"]);
    expect(lines[1]).toBe(lines[0]);
  });
});

describe("a script compiled once runs from its bytecode with the same lines, names and errors", () => {
  let kit: Kit;
  beforeAll(async () => {
    kit = await openKit();
  });
  afterAll(() => kit.close());

  it("the second run of a failing script reports the same file, line and traceback as the first", async () => {
    kit.scripts.fails = { source: `local function inner()\n  error("boom")\nend\nfunction main()\n  log.info(debug and "debug" or "no debug")\n  inner()\nend\n`, chunkName: "fails.lua" };
    const first = await kit.runtime.run("fails").done;
    const second = await kit.runtime.run("fails").done;
    expect(first.status).toBe("error");
    expect(first.error).toMatchObject({ file: "fails.lua", line: 2, message: "boom" });
    expect(first.error && "traceback" in first.error ? first.error.traceback : "").toContain("fails.lua:6");
    expect({ ...second.error }).toEqual({ ...first.error });
    // A syntax error is still found, and reported the same way, on every run.
    kit.scripts.broken = { source: "function main(\n", chunkName: "broken.lua" };
    const b1 = await kit.runtime.run("broken").done;
    const b2 = await kit.runtime.run("broken").done;
    expect(b1.error?.message).toMatch(/^broken\.lua:\d+:\d+: /);
    expect(b2.error).toEqual(b1.error);
  });
});
