// Every way an editor saves a file reaches the next run, without a restart and without telling
// the watcher anything: in-place writes, write-temp-then-rename (sed -i, vim, VS Code),
// delete-and-recreate, and whole folders added or removed. A bare fs.watch lost a file after its
// first replace-by-rename: later edits were ignored and runs kept the old version.
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadShow } from "../daemon/config/index.ts";
import { createSweeper, watchShow } from "../daemon/server/show-watcher.ts";
import type { ShowChange, ShowWatcher } from "../daemon/server/show-watcher.ts";
import { openWireShow } from "./fixtures/packaging-wire/kit.ts";
import type { WireShow } from "./fixtures/packaging-wire/kit.ts";

let show: WireShow;
let watcher: ShowWatcher;
const changes: ShowChange[] = [];

const SCRIPT = "workspace/scripts/hello.lua";
const TICKER = "workspace/scripts/ticker.lua";
const ticker = (v: string): string => `function main()\n  log.info("${v} running")\n  while not context.cancelled() do core.await(core.sleep(10)) end\nend\n`;
const source = (v: string): string => `function main() log.info("${v}") end\n`;
const abs = (rel: string): string => path.join(show.dir, rel);
const pause = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Runs the script until it logs `want` (the file system reports in its own time), at most 15 s. */
async function runsAs(id: string, want: string): Promise<void> {
  let last = "";
  for (const end = Date.now() + 15_000; Date.now() < end; await pause(50)) {
    const r = await show.run(id);
    last = r.status === "ok" ? (show.logs(id).at(-1) ?? "") : `${r.status}: ${r.error?.message ?? ""}`;
    if (last === want) return;
  }
  throw new Error(`${id} never ran as "${want}"; last run: ${last}`);
}

/** Waits until the watcher reported something matching, at most 15 s. */
async function reported(match: (c: ShowChange) => boolean, what: string): Promise<ShowChange> {
  for (const end = Date.now() + 15_000; Date.now() < end; await pause(50)) {
    const hit = changes.find(match);
    if (hit) return hit;
  }
  throw new Error(`the watcher never reported ${what}; it reported: ${JSON.stringify(changes)}`);
}

beforeAll(async () => {
  show = await openWireShow({ config: `[script.ticker]\nmode = "background"\nexecution_mode = "autoCommit"\n`, files: { [TICKER]: ticker("t1") } });
  show.write(SCRIPT, source("v0"));
  watcher = await watchShow({
    show: await loadShow(show.dir),
    runtime: show.runtime,
    checkSyntax: (src, chunk) => show.engine.checkSyntax(src, chunk),
    report: (c) => void changes.push(c),
    settleMs: 20,
  });
});
afterAll(async () => {
  await watcher.close();
  await show.close();
});

describe("every editor's way of saving a script reaches the next run", () => {
  it("in-place writes (truncate and write the same file), edit after edit", async () => {
    for (const v of ["in-place 1", "in-place 2", "in-place 3"]) {
      fs.writeFileSync(abs(SCRIPT), source(v));
      await runsAs("hello", v);
    }
    // Two saves 20 ms apart (format-on-save): the second is what runs.
    fs.writeFileSync(abs(SCRIPT), source("saved"));
    await pause(20);
    fs.writeFileSync(abs(SCRIPT), source("formatted"));
    await runsAs("hello", "formatted");
  });

  it("write a temporary file, then rename it over the script (VS Code, vim's writebackup), edit after edit", async () => {
    for (const v of ["renamed 1", "renamed 2", "renamed 3"]) {
      const temp = `${abs(SCRIPT)}.${process.pid}.tmp`;
      fs.writeFileSync(temp, source(v));
      fs.renameSync(temp, abs(SCRIPT));
      await runsAs("hello", v);
    }
  });

  it("sed -i (its own temp file renamed over the script), edit after edit", async () => {
    for (const [from, to] of [["renamed 3", "sed 1"], ["sed 1", "sed 2"], ["sed 2", "sed 3"]]) {
      execFileSync("sed", ["-i", `s/${from}/${to}/`, abs(SCRIPT)]);
      await runsAs("hello", to);
    }
  });

  it("delete the file, then create it again (slowly and at once), edit after edit", async () => {
    fs.rmSync(abs(SCRIPT));
    await reported((c) => c.type === "show.removed" && c.file === SCRIPT, "the script's removal");
    expect((await show.run("hello")).status).toBe("error");
    fs.writeFileSync(abs(SCRIPT), source("recreated 1"));
    await runsAs("hello", "recreated 1");
    for (const v of ["recreated 2", "recreated 3"]) {
      fs.rmSync(abs(SCRIPT));
      fs.writeFileSync(abs(SCRIPT), source(v));
      await runsAs("hello", v);
    }
  });

  it("the scripts folder removed and made again: its new files are seen, and edits to them too", async () => {
    const dir = abs("workspace/scripts");
    const saved = fs.readdirSync(dir).map((f) => [f, fs.readFileSync(path.join(dir, f), "utf8")] as const);
    fs.rmSync(dir, { recursive: true });
    await reported((c) => c.type === "show.removed" && c.file === SCRIPT, "the folder's removal");
    fs.mkdirSync(dir);
    for (const [f, text] of saved) fs.writeFileSync(path.join(dir, f), text);
    fs.writeFileSync(abs(SCRIPT), source("new folder 1"));
    await runsAs("hello", "new folder 1");
    fs.writeFileSync(`${abs(SCRIPT)}.tmp`, source("new folder 2"));
    fs.renameSync(`${abs(SCRIPT)}.tmp`, abs(SCRIPT));
    await runsAs("hello", "new folder 2");
  });

  it("a module folder added while running: its scripts run; removed: they are gone, and that is said", async () => {
    const manifest = `[module.cues_extra]\nversion = "0.1.0"\n\n[script.ping]\nexecution_mode = "autoCommit"\n`;
    // Made elsewhere and moved in whole, as a copy or an unpacked download arrives.
    const staging = fs.mkdtempSync(path.join(path.dirname(show.dir), "op-module-"));
    fs.mkdirSync(path.join(staging, "scripts"));
    fs.writeFileSync(path.join(staging, "module.toml"), manifest);
    fs.writeFileSync(path.join(staging, "scripts", "ping.lua"), source("ping 1"));
    fs.renameSync(staging, abs("modules/cues_extra"));
    await runsAs("cues_extra/ping", "ping 1");
    fs.writeFileSync(abs("modules/cues_extra/scripts/ping.lua.tmp"), source("ping 2"));
    fs.renameSync(abs("modules/cues_extra/scripts/ping.lua.tmp"), abs("modules/cues_extra/scripts/ping.lua"));
    await runsAs("cues_extra/ping", "ping 2");

    fs.rmSync(abs("modules/cues_extra"), { recursive: true });
    await reported((c) => c.type === "show.reloaded" && c.file.startsWith("modules/cues_extra") && !c.scripts.includes("cues_extra/ping"), "the module's removal");
    const gone = await show.run("cues_extra/ping");
    expect(gone.status).toBe("error");
    expect(gone.error?.message).toMatch(/cues_extra/);
    expect(watcher.current().show.modules.map((m) => m.name)).not.toContain("cues_extra");
  });
});

describe("a background script saved with a syntax error keeps its running version and says so", () => {
  it("a good save (by rename) restarts it on the new version; a broken one leaves that run going and is reported at file:line:col", async () => {
    await show.runtime.startBackground("ticker");
    await until(() => show.logs("ticker").includes("t1 running"), "t1");
    fs.writeFileSync(`${abs(TICKER)}.tmp`, ticker("t2"));
    fs.renameSync(`${abs(TICKER)}.tmp`, abs(TICKER));
    await until(() => show.logs("ticker").includes("t2 running"), "t2");
    const running = show.runtime.backgroundStatus().find((b) => b.id === "ticker");
    expect(running?.state).toBe("running");

    execFileSync("sed", ["-i", "s/log.info(\"t2 running\")/log.info(\"t3 running\"/", abs(TICKER)]);
    const invalid = await reported((c) => c.type === "show.invalid" && c.file === TICKER, "the broken save");
    expect(invalid).toMatchObject({ type: "show.invalid", file: TICKER, line: 3 });
    expect((invalid as { reason: string }).reason).toMatch(/the background script keeps running its previous version/);
    const rejected = show.events.find((e) => e.type === "script.reload_rejected" && e.script === "ticker");
    expect(rejected).toMatchObject({ file: TICKER, line: 3 });
    expect((rejected as { message: string }).message).toMatch(/^workspace\/scripts\/ticker\.lua:3:\d+: .*the background script keeps running its previous version/);
    expect(show.runtime.backgroundStatus().find((b) => b.id === "ticker")).toMatchObject({ state: "running", runId: running?.runId });
    expect(show.logs("ticker").some((l) => l.includes("t3"))).toBe(false);
    await show.runtime.stopBackground("ticker", "test over");
  });
});

async function until(ok: () => boolean, what: string): Promise<void> {
  for (const end = Date.now() + 15_000; !ok(); await pause(50)) if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
}

describe("an edit the file system's events never reported is still picked up", () => {
  it("the sweep behind the watcher notices a changed, a new and a removed file (what chokidar missed after a folder was made again)", async () => {
    const dir = fs.mkdtempSync(path.join(path.dirname(show.dir), "op-sweep-"));
    fs.mkdirSync(path.join(dir, "workspace", "scripts"), { recursive: true });
    fs.writeFileSync(path.join(dir, "workspace/scripts/a.lua"), "-- 1");
    fs.writeFileSync(path.join(dir, "workspace/scripts/gone.lua"), "-- x");
    fs.mkdirSync(path.join(dir, ".openprod"));
    fs.writeFileSync(path.join(dir, ".openprod/daemon.pid"), "1");
    const scheduled: string[] = [];
    const sweeper = createSweeper(dir, (rel) => void scheduled.push(rel));
    await sweeper.sweep(false);
    expect(scheduled).toEqual([]);
    fs.writeFileSync(path.join(dir, "workspace/scripts/a.lua.tmp"), "-- 22");
    fs.renameSync(path.join(dir, "workspace/scripts/a.lua.tmp"), path.join(dir, "workspace/scripts/a.lua"));
    fs.writeFileSync(path.join(dir, "workspace/scripts/new.lua"), "-- n");
    fs.rmSync(path.join(dir, "workspace/scripts/gone.lua"));
    fs.writeFileSync(path.join(dir, ".openprod/daemon.pid"), "2");
    await sweeper.sweep(true);
    expect(scheduled.sort()).toEqual(["workspace/scripts/a.lua", "workspace/scripts/gone.lua", "workspace/scripts/new.lua"]);
    // What was handled is not handled again.
    scheduled.length = 0;
    await sweeper.sweep(true);
    expect(scheduled).toEqual([]);
    fs.rmSync(dir, { recursive: true, force: true });
  });
});
