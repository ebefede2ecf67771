// Edits to a running show take effect without a restart, or are refused with the reason, as a
// technician sees it through the `openprod` binary against a real daemon: a script that does not
// parse is refused by `openprod run` at file:line:col (not run in its last valid version), triggers
// are added, edited and removed live with the cycle check run again, and modules come and go.
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CliKit } from "./fixtures/daemon-cli.ts";
import type { CliRun, DaemonProcess } from "./fixtures/daemon-cli.ts";

const kit = new CliKit();
let show = "";
let daemon: DaemonProcess;

const op = (...args: string[]): Promise<CliRun> => kit.run([...args, "--dir", show]);
const file = (rel: string): string => path.join(show, rel);
const pause = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Retries `f` until it returns a value (the daemon sees file changes in its own time), at most 20 s. */
async function eventually<T>(what: string, f: () => Promise<T | undefined>): Promise<T> {
  for (const end = Date.now() + 20_000; ; await pause(150)) {
    const v = await f();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}; daemon log:\n${daemon.stderr.slice(-3000)}`);
  }
}

/** Waits for a line of the daemon's log containing `text`, written after `from` characters. */
const logged = (text: string, from: number): Promise<string> =>
  eventually(`the daemon to log "${text}"`, async () => daemon.stderr.slice(from).split("\n").find((l) => l.includes(text)));

interface TriggerRow {
  name: string;
  status: string;
  script?: string;
  when?: string | null;
  error?: string;
}
const triggers = async (): Promise<TriggerRow[]> => (await op("triggers", "--json")).json<{ triggers: TriggerRow[] }>().triggers;
const triggerNames = async (): Promise<string[]> => (await triggers()).map((t) => `${t.name}:${t.status}`).sort();

interface ScriptRow {
  id: string;
  capabilities: string[];
}
const scripts = async (): Promise<ScriptRow[]> => (await op("scripts", "--json")).json<{ scripts: ScriptRow[] }>().scripts;

/** Saves as sed -i does: a new file renamed over the old one. */
function saveByRename(rel: string, text: string): void {
  const temp = `${file(rel)}.saving`;
  fs.writeFileSync(temp, text);
  fs.renameSync(temp, file(rel));
}
const appendToml = (text: string): void => saveByRename("openprod.toml", fs.readFileSync(file("openprod.toml"), "utf8") + text);

const HELLO = (v: string): string => `function main()\n  log.info("hello ${v}")\nend\n`;

beforeAll(async () => {
  await kit.build();
  show = await kit.newShow();
  fs.writeFileSync(file("workspace/scripts/hello.lua"), HELLO("v1"));
  fs.appendFileSync(file("openprod.toml"), `\n[script.hello]\nexecution_mode = "autoCommit"\ncapabilities = ["ui.notify"]\n`);
  daemon = await kit.daemon(show);
}, 90_000);

afterAll(async () => {
  await daemon?.stop();
  await kit.cleanup();
});

describe("a script saved with a syntax error is refused by openprod run, with where and why", () => {
  it("run refuses it at file:line:col with Lua's message, instead of running the last valid version and printing ok", async () => {
    const first = await op("run", "hello", "--json");
    expect(first.code, first.stderr).toBe(0);
    execFileSync("sed", ["-i", `s/log.info("hello v1")/log.info("hello v2"/`, file("workspace/scripts/hello.lua")]);
    const refused = await eventually("run to refuse the broken script", async () => {
      const r = await op("run", "hello");
      return r.code !== 0 ? r : undefined;
    });
    expect(refused.stdout).not.toMatch(/\bok\b/);
    expect(refused.stderr).toMatch(/workspace\/scripts\/hello\.lua:3:\d+: .*'\)' expected/);
    expect(refused.stderr).toMatch(/fix the file and run again/);
    // Said when the file was saved, too.
    expect(await logged("workspace/scripts/hello.lua:3:", 0)).toMatch(/runs of it are refused until the file is fixed/);
  });

  it("once fixed (saved again by rename), the new version runs", async () => {
    execFileSync("sed", ["-i", `s/log.info("hello v2"/log.info("hello v3")/`, file("workspace/scripts/hello.lua")]);
    const r = await eventually("the fixed script to run", async () => {
      const run = await op("run", "hello");
      return run.code === 0 && run.stdout.includes("hello v3") ? run : undefined;
    });
    expect(r.stdout).toMatch(/\bok\b/);
  });
});

describe("a module library saved with a syntax error is reported when saved", () => {
  it("the daemon logs file:line:col and the message as soon as the file is saved", async () => {
    const from = daemon.stderr.length;
    saveByRename("modules/lighting/exports/cue_math.lua", `local M = {}\nfunction M.next(n)\n  return n +\nend\nreturn M\n`);
    const line = await logged("modules/lighting/exports/cue_math.lua:4:", from);
    expect(line).toMatch(/unexpected symbol near 'end'.*scripts that require it fail until it is fixed/);
    fs.rmSync(file("modules/lighting/exports/cue_math.lua"));
  });
});

describe("triggers reload live: added, edited and removed without a restart; a cycle or a missing script is refused", () => {
  const BEFORE = ["cue_started:active", "renumber_on_reorder:active"];

  it("the show starts with its two triggers", async () => {
    expect(await triggerNames()).toEqual(BEFORE);
  });

  it("an added [trigger.*] section is active and fires; edited, its new condition shows; removed, it is gone", async () => {
    appendToml(`\n[trigger.hello_on_status]\non_field_change = "lighting.cue.status"\nwhen = "new_value == 'hold'"\nrun_script = "hello"\nmode = "autoCommit"\n`);
    await eventually("the new trigger", async () => ((await triggerNames()).includes("hello_on_status:active") ? true : undefined));
    const cue = (await op("create", "lighting_cues", "number=1", "status=standby", "--json")).json<{ id: string }>().id;
    expect((await op("set", cue, "status", "hold")).code).toBe(0);
    await eventually("the new trigger to fire", async () => {
      const t = (await op("traces", "hello_on_status", "--json")).json<{ traces: { status: string }[] }>().traces;
      return t.some((x) => x.status === "ok") ? true : undefined;
    });

    saveByRename("openprod.toml", fs.readFileSync(file("openprod.toml"), "utf8").replace(`when = "new_value == 'hold'"`, `when = "new_value == 'paused'"`));
    await eventually("the edited condition", async () => ((await triggers()).find((t) => t.name === "hello_on_status")?.when === "new_value == 'paused'" ? true : undefined));

    const toml = fs.readFileSync(file("openprod.toml"), "utf8");
    saveByRename("openprod.toml", toml.slice(0, toml.indexOf("\n[trigger.hello_on_status]")) + "\n");
    await eventually("the trigger's removal", async () => (JSON.stringify(await triggerNames()) === JSON.stringify(BEFORE) ? true : undefined));
  });

  it("a new trigger whose script may write the field it watches is refused with the cycle spelled out; the previous triggers stay", async () => {
    const good = fs.readFileSync(file("openprod.toml"), "utf8");
    const from = daemon.stderr.length;
    fs.writeFileSync(file("workspace/scripts/keep_running.lua"), `function main() core.set_field(context.trigger_entity(), "status", "running") end\n`);
    appendToml(
      `\n[script.keep_running]\nexecution_mode = "autoCommit"\ncapabilities = ["data.write:lighting.cue.status"]\n` +
        `\n[trigger.restart_stopped]\non_field_change = "lighting.cue.status"\nrun_script = "keep_running"\n`,
    );
    const line = await logged("trigger cycle: restart_stopped -> keep_running writes lighting.cue.status -> restart_stopped", from);
    expect(line).toMatch(/openprod\.toml:\d+/);
    expect(line).toMatch(/the previous configuration stays in force/);
    expect(await triggerNames()).toEqual(BEFORE);
    // The whole edit was refused: the new script's section did not take effect either.
    expect((await scripts()).find((s) => s.id === "keep_running")?.capabilities).toEqual([]);
    saveByRename("openprod.toml", good);
  });

  it("a capability change that would close a cycle through an existing trigger is refused; the script keeps its capabilities", async () => {
    const good = fs.readFileSync(file("openprod.toml"), "utf8");
    const from = daemon.stderr.length;
    saveByRename("openprod.toml", good.replace(`capabilities = ["data.write:lighting.cue.fired_at"]`, `capabilities = ["data.write:lighting.cue.fired_at", "data.write:lighting.cue.status"]`));
    const line = await logged("trigger cycle: cue_started -> log_cue_start writes lighting.cue.status -> cue_started", from);
    expect(line).toMatch(/the previous configuration stays in force/);
    expect(await triggerNames()).toEqual(BEFORE);
    expect((await scripts()).find((s) => s.id === "log_cue_start")?.capabilities).toEqual(["data.write:lighting.cue.fired_at"]);
    saveByRename("openprod.toml", good);
  });

  it("a trigger naming a script that does not exist is refused with the name; one whose script has no file too", async () => {
    const good = fs.readFileSync(file("openprod.toml"), "utf8");
    let from = daemon.stderr.length;
    appendToml(`\n[trigger.nowhere]\non_field_change = "lighting.cue.status"\nrun_script = "no_such_script"\n`);
    let line = await logged("no_such_script", from);
    expect(line).toMatch(/\[trigger\.nowhere\]/);
    expect(line).toMatch(/the previous configuration stays in force/);
    expect(await triggerNames()).toEqual(BEFORE);

    saveByRename("openprod.toml", good);
    from = daemon.stderr.length;
    appendToml(`\n[script.ghost]\nexecution_mode = "autoCommit"\n\n[trigger.haunt]\non_field_change = "lighting.cue.status"\nrun_script = "ghost"\n`);
    line = await logged(`[trigger.haunt] run_script "ghost"`, from);
    expect(line).toMatch(/has no file .*ghost\.lua/);
    expect(line).toMatch(/the previous configuration stays in force/);
    expect(await triggerNames()).toEqual(BEFORE);
    saveByRename("openprod.toml", good);
  });
});

describe("a module added, changed or removed while the daemon runs", () => {
  const MANIFEST = (caps: string): string => `[module.extras]\nversion = "0.1.0"\n\n[script.ping]\nexecution_mode = "autoCommit"\ncapabilities = [${caps}]\n`;
  const PING = `function main() log.info(ui ~= nil and ui.toast ~= nil and "pong, may notify" or "pong") end\n`;

  it("added: openprod scripts lists its script, and it runs", async () => {
    const staging = kit.tempDir("op-extras-");
    fs.mkdirSync(path.join(staging, "scripts"));
    fs.writeFileSync(path.join(staging, "module.toml"), MANIFEST(""));
    fs.writeFileSync(path.join(staging, "scripts", "ping.lua"), PING);
    fs.cpSync(staging, file("modules/extras"), { recursive: true });
    await eventually("the module's script listed", async () => ((await scripts()).some((s) => s.id === "extras/ping") ? true : undefined));
    const r = await op("run", "extras/ping");
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain("pong");
    expect(r.stdout).not.toContain("may notify");
  });

  it("changed: its new capabilities are the ones listed and held", async () => {
    saveByRename("modules/extras/module.toml", MANIFEST(`"ui.notify"`));
    await eventually("the new capability", async () => ((await scripts()).find((s) => s.id === "extras/ping")?.capabilities.includes("ui.notify") ? true : undefined));
    const r = await op("run", "extras/ping");
    expect(r.stdout).toContain("pong, may notify");
  });

  it("one that adds tables to the schema is refused, saying exactly why, and nothing of it is used", async () => {
    const from = daemon.stderr.length;
    fs.mkdirSync(file("modules/props/scripts"), { recursive: true });
    fs.writeFileSync(file("modules/props/scripts/count.lua"), `function main() end\n`);
    fs.writeFileSync(file("modules/props/module.toml"), `[module.props]\nversion = "0.1.0"\n\n[facet.Prop]\nname = "string"\n\n[table.props]\nfacets = ["Prop"]\n\n[script.count]\n`);
    const line = await logged("adds facets props.Prop; adds tables props", from);
    expect(line).toMatch(/the workspace schema cannot change while the daemon runs/);
    expect(line).toMatch(/restart the daemon to use it/);
    expect((await scripts()).map((s) => s.id)).not.toContain("props/count");
    fs.rmSync(file("modules/props"), { recursive: true });
  });

  it("removed: its script is no longer listed, and running it says there is no such module script", async () => {
    fs.rmSync(file("modules/extras"), { recursive: true });
    await eventually("the module's script gone", async () => (!(await scripts()).some((s) => s.id === "extras/ping") ? true : undefined));
    const r = await op("run", "extras/ping");
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/extras\/ping/);
  });
});
