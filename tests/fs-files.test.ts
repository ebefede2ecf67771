import { createHash } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import type { HostBinding } from "../daemon/scripts/engine/index.ts";
import { createFsApi } from "../daemon/scripts/fs/index.ts";
import type { ExternalInput } from "../daemon/scripts/fs/index.ts";
import { harness } from "./fixtures/lua/harness.ts";
import { caps, tempShow } from "./fixtures/packaging-show/show.ts";

const h = harness(1);
const show = tempShow({
  "imports/cues.csv": "1,Go\n2,Blackout\n",
  "imports/big.txt": "x".repeat(100),
  "secrets/key.txt": "hunter2",
  "exports/report.txt": "old report",
});
const outside = tempShow({ "passwd": "root:x:0:0" });
fs.symlinkSync(path.join(outside.dir, "passwd"), path.join(show.dir, "imports/passwd.csv"));
fs.symlinkSync(path.join(show.dir, "secrets/key.txt"), path.join(show.dir, "imports/key.csv"));
afterAll(async () => {
  await h.engine.close();
  show.remove();
  outside.remove();
});

async function run(source: string, capabilities: string[], extra: Record<string, HostBinding> = {}) {
  const inputs: ExternalInput[] = [];
  const ac = new AbortController();
  const api = createFsApi({ showDir: show.dir, capabilities: caps(...capabilities), record: (i) => inputs.push(i), script: "imports", recordContentBytes: 50, signal: ac.signal });
  const start = h.logs.length;
  const outcome = await h.run(source, { bindings: { ...api.bindings, ...extra }, preludeLua: api.preludeLua });
  ac.abort();
  return { outcome, logs: h.logs.slice(start), inputs, api };
}

describe("fs.read reads granted files and records what it read", () => {
  it("returns the text and records its hash (and content when small)", async () => {
    const { outcome, logs, inputs } = await run(`
      log.info(core.await(fs.read("imports/cues.csv")))
      log.info(#core.await(fs.read("./imports//big.txt")))`, ["fs.read:imports/*"]);
    expect(outcome.error).toBeUndefined();
    expect(logs).toEqual([["1,Go\n2,Blackout\n"], [100]]);
    expect(inputs).toEqual([
      { kind: "fs.read", data: { path: "imports/cues.csv", sha256: createHash("sha256").update("1,Go\n2,Blackout\n").digest("hex"), bytes: 16, content: "1,Go\n2,Blackout\n" } },
      { kind: "fs.read", data: { path: "imports/big.txt", sha256: expect.stringMatching(/^[0-9a-f]{64}$/), bytes: 100, content: null } },
    ]);
  });

  it("refuses paths outside the grants, naming the capability that would allow them", async () => {
    const { outcome, logs } = await run(`
      local function why(p) local ok, e = pcall(function() return core.await(fs.read(p)) end) return e.type .. ": " .. e.message end
      log.info(why("secrets/key.txt"))
      log.info(why("imports/../secrets/key.txt"))
      log.info(why("/etc/passwd"))
      log.info(why("imports/missing.csv"))
      log.info(why("imports/passwd.csv"))
      log.info(why("imports/key.csv"))`, ["fs.read:imports/*"]);
    expect(outcome.error).toBeUndefined();
    const real = fs.realpathSync(path.join(outside.dir, "passwd"));
    expect(logs.map((l) => l[0])).toEqual([
      'PermissionDenied: script "imports": reading secrets/key.txt needs capability "fs.read:secrets/key.txt" (or "fs.read:secrets/*")',
      'PermissionDenied: script "imports": reading "imports/../secrets/key.txt" is refused: it contains ".."; paths cannot leave the show directory',
      'PermissionDenied: script "imports": reading "/etc/passwd" is refused: it is absolute; paths are relative to the show directory',
      'InvalidOperation: fs.read("imports/missing.csv"): no such file',
      `PermissionDenied: script "imports": reading "imports/passwd.csv" is refused: a symbolic link takes it to ${real}, outside the show directory`,
      'PermissionDenied: script "imports": reading "imports/key.csv" is refused: a symbolic link takes it to secrets/key.txt, and reading secrets/key.txt needs capability "fs.read:secrets/key.txt" (or "fs.read:secrets/*")',
    ]);
  });

  it("gives no fs global to a script without fs capabilities, and only the granted functions", async () => {
    const none = await run(`log.info(fs == nil)`, []);
    const readOnly = await run(`log.info(type(fs.read), fs.write, fs.watch)`, ["fs.read:imports/*"]);
    expect(none.logs).toEqual([[true]]);
    expect(readOnly.logs).toEqual([["function", null, null]]);
  });
});

describe("fs.write replaces a file atomically", () => {
  it("writes through a temp file and a rename, creating folders, leaving no temp file", async () => {
    const target = path.join(show.dir, "exports/report.txt");
    const oldFd = fs.openSync(target, "r");
    const { outcome } = await run(`
      core.await(fs.write("exports/report.txt", "new report"))
      core.await(fs.write("exports/2025/cues.csv", "1,Go"))`, ["fs.write:exports/**"]);
    expect(outcome.error).toBeUndefined();
    // A reader that had the old file open still sees the whole old content: the file was replaced, not rewritten.
    const buf = Buffer.alloc(64);
    const n = fs.readSync(oldFd, buf, 0, 64, 0);
    fs.closeSync(oldFd);
    expect(buf.subarray(0, n).toString()).toBe("old report");
    expect(show.read("exports/report.txt")).toBe("new report");
    expect(show.read("exports/2025/cues.csv")).toBe("1,Go");
    expect(fs.readdirSync(path.join(show.dir, "exports")).sort()).toEqual(["2025", "report.txt"]);
  });

  it("refuses writing outside the grant or through a link out of the show", async () => {
    fs.symlinkSync(outside.dir, path.join(show.dir, "exports/escape"));
    const { logs } = await run(`
      local function why(p) local ok, e = pcall(function() return core.await(fs.write(p, "x")) end) return e.type .. ": " .. e.message end
      log.info(why("imports/cues.csv"))
      log.info(why("exports/escape/passwd"))`, ["fs.write:exports/**"]);
    expect(logs.map((l) => l[0])).toEqual([
      'PermissionDenied: script "imports": writing imports/cues.csv needs capability "fs.write:imports/cues.csv" (or "fs.write:imports/*")',
      `PermissionDenied: script "imports": writing "exports/escape/passwd" is refused: a symbolic link takes it to ${path.join(fs.realpathSync(outside.dir), "passwd")}, outside the show directory`,
    ]);
    expect(show.read("imports/cues.csv")).toBe("1,Go\n2,Blackout\n");
    expect(fs.readFileSync(path.join(outside.dir, "passwd"), "utf8")).toBe("root:x:0:0");
  });
});

describe("fs.watch reports created, modified and deleted files inside the grant", () => {
  it("delivers events in order for granted files only, and records them", async () => {
    fs.mkdirSync(path.join(show.dir, "watched"));
    fs.writeFileSync(path.join(show.dir, "watched/old.csv"), "a");
    const pause = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
    const changes: HostBinding = {
      kind: "async",
      fn: async () => {
        const p = (n: string): string => path.join(show.dir, "watched", n);
        fs.writeFileSync(p("notes.txt"), "ignored: not granted");
        await pause(50);
        fs.writeFileSync(p("new.csv"), "1");
        await pause(150);
        fs.appendFileSync(p("old.csv"), "b");
        await pause(150);
        fs.unlinkSync(p("old.csv"));
        return null;
      },
    };
    const { outcome, logs, inputs } = await run(`
      local w = core.await(fs.watch("watched"))
      core.await(test.change())
      local seen = {}
      while #seen < 3 do
        local r = core.await(core.race(w:next(), core.sleep(5000)))
        if r.timeout then break end
        local e = r.value
        local last = seen[#seen]
        if not (last and last.type == e.type and last.path == e.path) then seen[#seen + 1] = e end
      end
      for _, e in ipairs(seen) do log.info(e.type, e.path) end
      w:close()
      log.info(core.await(w:next()))`, ["fs.watch:watched/*.csv"], { "test.change": changes });
    expect(outcome.error).toBeUndefined();
    expect(logs).toEqual([["created", "watched/new.csv"], ["modified", "watched/old.csv"], ["deleted", "watched/old.csv"], [null]]);
    expect(inputs.filter((i) => i.kind === "fs.watch").map((i) => i.data)).toContainEqual({ type: "deleted", path: "watched/old.csv" });
  });

  it("keeps seeing a file replaced by rename, edit after edit, and the files of a folder removed whole", async () => {
    fs.mkdirSync(path.join(show.dir, "cues/act1"), { recursive: true });
    const file = path.join(show.dir, "cues/act1/list.csv");
    fs.writeFileSync(file, "0");
    let saves = 0;
    // As sed -i and most editors save: a new file renamed over the old one.
    const save: HostBinding = {
      kind: "async",
      fn: async () => {
        fs.writeFileSync(`${file}.saving`, String(++saves));
        fs.renameSync(`${file}.saving`, file);
        return null;
      },
    };
    const removeFolder: HostBinding = {
      kind: "async",
      fn: async () => {
        fs.rmSync(path.join(show.dir, "cues/act1"), { recursive: true });
        return null;
      },
    };
    const { outcome, logs } = await run(`
      local w = core.await(fs.watch("cues"))
      local function next_event()
        local r = core.await(core.race(w:next(), core.sleep(2000)))
        if r.timeout then return "timeout" end
        return r.value.type .. " " .. r.value.path
      end
      for _ = 1, 3 do
        core.await(test.save())
        log.info(next_event())
      end
      core.await(test.remove_folder())
      log.info(next_event())
      w:close()`, ["fs.watch:cues/**"], { "test.save": save, "test.remove_folder": removeFolder });
    expect(outcome.error).toBeUndefined();
    expect(logs).toEqual([["modified cues/act1/list.csv"], ["modified cues/act1/list.csv"], ["modified cues/act1/list.csv"], ["deleted cues/act1/list.csv"]]);
  });

  it("refuses watching outside the grant", async () => {
    const { logs } = await run(`local ok, e = pcall(fs.watch, "secrets") log.info(e.type, e.message)`, ["fs.watch:watched/*.csv"]);
    expect(logs).toEqual([["PermissionDenied", 'script "imports": watching secrets needs capability "fs.watch:secrets" (or "fs.watch:*")']]);
  });
});
