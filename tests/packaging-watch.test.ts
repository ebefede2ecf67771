import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadShow } from "../daemon/config/index.ts";
import { watchShow } from "../daemon/server/show-watcher.ts";
import type { ShowChange, ShowWatcher } from "../daemon/server/show-watcher.ts";
import { openWireShow } from "./fixtures/packaging-wire/kit.ts";
import type { WireShow } from "./fixtures/packaging-wire/kit.ts";

let show: WireShow;
let watcher: ShowWatcher;
const changes: ShowChange[] = [];
/** What was reported about a file since a point: the file system also reports on its own, in its own time. */
const reportsSince = (since: number, file: string): ShowChange[] => changes.slice(since).filter((c) => c.file === file);

beforeAll(async () => {
  show = await openWireShow();
  show.write("workspace/scripts/hello.lua", `function main() log.info("v1") end`);
  show.write("openprod.toml", show.read("openprod.toml") + `\n[script.hello]\nexecution_mode = "autoCommit"\ncapabilities = ["ui.notify"]\n`);
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

describe("the show directory is watched: edits take effect for the next run, invalid ones are reported and ignored", () => {
  it("an edited script runs in its new version next time, without a restart", async () => {
    expect((await show.run("hello")).status).toBe("ok");
    expect(show.logs("hello").at(-1)).toBe("v1");
    const since = changes.length;
    show.write("workspace/scripts/hello.lua", `function main() log.info("v2") end`);
    await watcher.rescan("workspace/scripts/hello.lua");
    await show.run("hello");
    expect(show.logs("hello").at(-1)).toBe("v2");
    expect(reportsSince(since, "workspace/scripts/hello.lua")).toContainEqual({ type: "show.reloaded", file: "workspace/scripts/hello.lua", scripts: ["hello"] });
  });

  it("a script edit that does not parse is reported with file, line and column, and runs of it fail there instead of running an older version", async () => {
    const since = changes.length;
    show.write("workspace/scripts/hello.lua", `function main()\n  log.info("v3"\nend`);
    await watcher.rescan("workspace/scripts/hello.lua");
    const invalid = reportsSince(since, "workspace/scripts/hello.lua").find((c) => c.type === "show.invalid");
    expect(invalid).toMatchObject({ type: "show.invalid", file: "workspace/scripts/hello.lua", line: 3 });
    expect((invalid as { reason: string }).reason).toMatch(/runs of it are refused until the file is fixed/);
    const r = await show.run("hello");
    expect(r.status).toBe("error");
    expect(r.error?.message).toMatch(/^workspace\/scripts\/hello\.lua:3:\d+: /);
    expect(show.logs("hello").at(-1)).toBe("v2");
    show.write("workspace/scripts/hello.lua", `function main() log.info("v2 again") end`);
    await watcher.rescan("workspace/scripts/hello.lua");
    expect((await show.run("hello")).status).toBe("ok");
    expect(show.logs("hello").at(-1)).toBe("v2 again");
  });

  it("a library file (a module's exports/*.lua) that does not parse is reported when saved", async () => {
    const rel = "modules/lighting/exports/broken_helpers.lua";
    const since = changes.length;
    show.write(rel, `local M = {}\nfunction M.f(\nreturn M\n`);
    await watcher.rescan(rel);
    const invalid = reportsSince(since, rel).find((c) => c.type === "show.invalid");
    expect(invalid).toMatchObject({ type: "show.invalid", file: rel, line: 3 });
    expect((invalid as { column: number | null }).column).toBeGreaterThan(0);
    expect((invalid as { reason: string }).reason).toMatch(/scripts that require it fail until it is fixed/);
  });

  it("a config edit that does not parse is reported with its line, and the old configuration stays", async () => {
    const good = show.read("openprod.toml");
    let since = changes.length;
    show.write("openprod.toml", good + `\n[script.hello\n`);
    await watcher.rescan("openprod.toml");
    const invalid = reportsSince(since, "openprod.toml").find((c) => c.type === "show.invalid");
    expect(invalid).toMatchObject({ type: "show.invalid", file: "openprod.toml" });
    expect((invalid as { line: number | null }).line).toBeGreaterThan(1);
    expect((await show.run("hello")).status).toBe("ok");
    since = changes.length;
    show.write("openprod.toml", good);
    await watcher.rescan("openprod.toml");
    expect(reportsSince(since, "openprod.toml").map((c) => c.type)).toContain("show.reloaded");
  });

  it("a capability removed from the config is gone for the next run", async () => {
    show.write("workspace/scripts/hello.lua", `function main() log.info(tostring(ui ~= nil and ui.toast ~= nil)) end`);
    await watcher.rescan("workspace/scripts/hello.lua");
    await show.run("hello");
    expect(show.logs("hello").at(-1)).toBe("true");
    show.write("openprod.toml", show.read("openprod.toml").replace(`capabilities = ["ui.notify"]\n`, `capabilities = []\n`));
    await watcher.rescan("openprod.toml");
    await show.run("hello");
    expect(show.logs("hello").at(-1)).toBe("false");
  });

  it("changes are picked up from the file system by themselves", async () => {
    const before = changes.length;
    show.write("workspace/scripts/hello.lua", `function main() log.info("v4") end`);
    for (let i = 0; i < 100 && changes.length === before; i++) await new Promise((r) => setTimeout(r, 50));
    await watcher.rescan();
    await show.run("hello");
    expect(show.logs("hello").at(-1)).toBe("v4");
  });
});
