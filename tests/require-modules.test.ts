import fs from "node:fs";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { createFsApi } from "../daemon/scripts/fs/index.ts";
import { createRequireForRun } from "../daemon/scripts/modules/index.ts";
import { harness } from "./fixtures/lua/harness.ts";
import { caps, merge, tempShow } from "./fixtures/packaging-show/show.ts";

const h = harness(1);
const show = tempShow({
  "modules/lighting/module.toml": "[module.lighting]\n",
  "modules/lighting/exports/init.lua": "return { name = 'lighting' }",
  "modules/lighting/exports/helpers.lua": `
    log.info("helpers loaded")
    local fmt = require("./format")
    local M = {}
    function M.label(u, ch) return fmt.pair(u, ch) end
    function M.late() return require("./format") end
    return M`,
  "modules/lighting/exports/format.lua": "local M = {} function M.pair(a, b) return a .. '/' .. b end return M",
  "modules/lighting/exports/colors/gel.lua": "local h = require('../helpers') return { label = h.label, up = require('../init') }",
  "modules/lighting/exports/broken.lua": "local M = {}\nfunction M.f()\n  local x = = 2\nend\nreturn M",
  "modules/lighting/exports/reader.lua": "return function(p) return core.await(fs.read(p)) end",
  "modules/lighting/exports/boom.lua": "error('boom at load')",
  "modules/lighting/scripts/sync.lua": "",
  "workspace/modules/utils.lua": "return { answer = 42 }",
  "workspace/modules/a.lua": "return { b = require('./b') }",
  "workspace/modules/b.lua": "return { a = require('./a') }",
  "workspace/modules/self.lua": "return require('workspace/self')",
  "workspace/scripts/helper.lua": "return 'next to the script'",
  "workspace/scripts/main.lua": "-- the script under test; its source is given to the engine directly",
  "data/cues.csv": "1,Go\n",
  "secrets/key.txt": "hunter2",
});
const outside = tempShow({ "leak.lua": "return 'outside the show'" });
fs.symlinkSync(path.join(outside.dir, "leak.lua"), path.join(show.dir, "workspace/modules/leak.lua"));
afterAll(async () => {
  await h.engine.close();
  show.remove();
  outside.remove();
});

const SCRIPT = "workspace/scripts/main.lua";

async function run(source: string, opts: { capabilities?: string[]; scriptPath?: string } = {}) {
  const req = createRequireForRun({ showDir: show.dir, scriptPath: opts.scriptPath ?? SCRIPT });
  const fsApi = createFsApi({ showDir: show.dir, capabilities: caps(...(opts.capabilities ?? [])) });
  const parts = merge(req, fsApi);
  const start = h.logs.length;
  const outcome = await h.run(source, { bindings: parts.bindings, preludeLua: parts.preludeLua, chunkName: opts.scriptPath ?? SCRIPT });
  return { outcome, logs: h.logs.slice(start), tracker: req.tracker };
}

describe("require finds shared code where the spec says", () => {
  it("resolves module exports, init files, workspace modules and paths relative to the requiring file", async () => {
    const { outcome, logs } = await run(`
      local helpers = require("lighting/helpers")
      log.info(helpers.label(12, 3))
      log.info(require("lighting").name)
      log.info(require("workspace/utils").answer)
      log.info(require("./helper"))
      local gel = require("lighting/colors/gel")
      log.info(gel.label("a", "b"), gel.up.name)
      log.info(helpers.late() == require("lighting/format"))`);
    expect(outcome.error).toBeUndefined();
    expect(logs).toEqual([["helpers loaded"], ["12/3"], ["lighting"], [42], ["next to the script"], ["a/b", "lighting"], [true]]);
  });

  it("lets a module script reach its own exports with ../exports", async () => {
    const { outcome, logs } = await run(`log.info(require("../exports/format").pair(1, 2))`, { scriptPath: "modules/lighting/scripts/sync.lua" });
    expect(outcome.error).toBeUndefined();
    expect(logs).toEqual([["1/2"]]);
  });
});

describe("a module is loaded once per run and shared", () => {
  it("returns the same table to every require, whatever name reached the file", async () => {
    const { outcome, logs } = await run(`
      local a = require("lighting/helpers")
      local b = require("lighting/helpers")
      assert(a == b)
      local via_gel = require("lighting/colors/gel")
      log.info(a == b, require("lighting/format") == require("lighting/format"))`);
    expect(outcome.error).toBeUndefined();
    // The body ran once although three requires reached helpers.lua.
    expect(logs).toEqual([["helpers loaded"], [true, true]]);
  });

  it("starts each run with an empty cache", async () => {
    const first = await run(`require("lighting/helpers")`);
    const second = await run(`require("lighting/helpers")`);
    expect(first.logs).toEqual([["helpers loaded"]]);
    expect(second.logs).toEqual([["helpers loaded"]]);
  });
});

describe("require failures read exactly as the spec's table", () => {
  it("gives the four messages character for character", async () => {
    const { outcome, logs } = await run(`
      local function msg(name) local ok, e = pcall(require, name) return ok, e.type, e.message end
      log.info(msg("lighting/nothing"))
      log.info(msg("csv-parser"))
      log.info(msg("csv-parser/parse"))
      log.info(msg("lighting/broken"))
      log.info(msg("workspace/a"))`);
    expect(outcome.error).toBeUndefined();
    expect(logs).toEqual([
      [false, "InvalidOperation", 'module not found: "lighting/nothing" (tried modules/lighting/exports/nothing.lua)'],
      [false, "InvalidOperation", 'module not installed: "csv-parser"'],
      [false, "InvalidOperation", 'module not installed: "csv-parser"'],
      [false, "InvalidOperation", `syntax error in "lighting/broken": 3:13: unexpected symbol near '='`],
      [false, "InvalidOperation", "circular require: workspace/modules/a.lua -> workspace/modules/b.lua -> workspace/modules/a.lua"],
    ]);
  });

  it("spells out a cycle through the requiring script and a module requiring itself", async () => {
    const { logs } = await run(`
      local _, e1 = pcall(require, "workspace/self")
      local _, e2 = require.try("./main")
      log.info(e1.message, e2.message)`);
    expect(logs).toEqual([
      ["circular require: workspace/modules/self.lua -> workspace/modules/self.lua", "circular require: workspace/scripts/main.lua -> workspace/scripts/main.lua"],
    ]);
  });

  it("ends an unprotected run with the message, located at the script's require line", async () => {
    const { outcome } = await run(`local x = 1\nlocal csv = require("csv-parser/parse")`);
    expect(outcome.status).toBe("error");
    expect(outcome.error).toMatchObject({ type: "InvalidOperation", message: 'module not installed: "csv-parser"', line: 2 });
  });

  it("lets errors raised by a module's body through unchanged, and retries the load next time", async () => {
    const { logs } = await run(`
      local ok1, e1 = pcall(require, "lighting/boom")
      local ok2, e2 = pcall(require, "lighting/boom")
      log.info(ok1, e1, ok2, e2)`);
    expect(logs).toEqual([[false, "modules/lighting/exports/boom.lua:1: boom at load", false, "modules/lighting/exports/boom.lua:1: boom at load"]]);
  });
});

describe("require.try is for optional dependencies", () => {
  it("returns nil and the error when missing, the module when present", async () => {
    const { outcome, logs } = await run(`
      local yaml, err = require.try("yaml-parser/parse")
      log.info(yaml, err.type, err.message, tostring(err))
      local utils, none = require.try("workspace/utils")
      log.info(utils.answer, none)`);
    expect(outcome.error).toBeUndefined();
    expect(logs).toEqual([
      [null, "InvalidOperation", 'module not installed: "yaml-parser"', 'InvalidOperation: module not installed: "yaml-parser"'],
      [42, null],
    ]);
  });
});

describe("required paths cannot leave their roots", () => {
  it("refuses climbing out of exports, workspace/modules or the show, and symlinks out of the show", async () => {
    await fs.promises.writeFile(path.join(show.dir, "modules/lighting/exports/climb.lua"), "return require('../../../../etc/passwd')");
    const { outcome, logs } = await run(`
      local function why(name) local _, e = pcall(require, name) return e.type .. ": " .. e.message end
      log.info(why("lighting/climb"))
      log.info(why("lighting/../../secrets/key"))
      log.info(why("workspace/../scripts/helper"))
      log.info(why("../../../etc/passwd"))
      log.info(why("/etc/passwd"))
      log.info(why("workspace/leak"))`);
    expect(outcome.error).toBeUndefined();
    expect(logs.map((l) => l[0])).toEqual([
      'PermissionDenied: require("../../../../etc/passwd") is refused: from modules/lighting/exports/climb.lua it would leave modules/lighting/exports; relative requires stay inside the folder they start in',
      'PermissionDenied: require("lighting/../../secrets/key") is refused: it would leave modules/lighting/exports',
      'PermissionDenied: require("workspace/../scripts/helper") is refused: it would leave workspace/modules',
      'PermissionDenied: require("../../../etc/passwd") is refused: from workspace/scripts/main.lua it would leave workspace; relative requires stay inside the folder they start in',
      'PermissionDenied: require("/etc/passwd") is refused: module names are not absolute paths',
      'InvalidOperation: module not found: "workspace/leak" (tried workspace/modules/leak.lua)',
    ]);
  });
});

describe("modules run with the caller's capabilities", () => {
  it("can read what the script may read, and nothing more", async () => {
    const granted = await run(`local read = require("lighting/reader") log.info(read("data/cues.csv"))
      local ok, e = pcall(read, "secrets/key.txt") log.info(e.type, e.message)`, { capabilities: ["fs.read:data/*"] });
    expect(granted.outcome.error).toBeUndefined();
    expect(granted.logs).toEqual([["1,Go\n"], ["PermissionDenied", 'reading secrets/key.txt needs capability "fs.read:secrets/key.txt" (or "fs.read:secrets/*")']]);
    const none = await run(`local ok, e = pcall(require("lighting/reader"), "data/cues.csv") log.info(ok, e)`);
    expect(none.logs).toEqual([[false, "modules/lighting/exports/reader.lua:1: attempt to index a nil value (global 'fs')"]]);
  });
});

describe("a run's script hash covers every module it required", () => {
  it("lists each loaded file with the sha256 of its content", async () => {
    const { tracker } = await run(`require("lighting/helpers") require.try("nothing/here")`);
    const hashes = tracker.hashes();
    expect(Object.keys(hashes)).toEqual(["modules/lighting/exports/format.lua", "modules/lighting/exports/helpers.lua"]);
    expect(hashes["modules/lighting/exports/format.lua"]).toMatch(/^[0-9a-f]{64}$/);
    expect(tracker.combinedHash("abc")).not.toBe("abc");
    const bare = await run(`local x = 1`);
    expect(bare.tracker.combinedHash("abc")).toBe("abc");
  });
});
