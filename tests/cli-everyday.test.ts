import fs from "node:fs";
import path from "node:path";
import { spawn } from "node:child_process";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CliKit, ROOT } from "./fixtures/daemon-cli.ts";
import type { DaemonProcess } from "./fixtures/daemon-cli.ts";

const kit = new CliKit();
let show = "";
let daemon: DaemonProcess;
let files = "";

const op = (...args: string[]): ReturnType<CliKit["run"]> => kit.run([...args, "--dir", show]);

beforeAll(async () => {
  await kit.build();
  show = await kit.newShow();
  fs.appendFileSync(
    path.join(show, "openprod.toml"),
    [
      "",
      "[script.greet]",
      'execution_mode = "autoCommit"',
      "[script.greet.args]",
      'who = { type = "string", help = "who to greet" }',
      'times = { type = "int", default = 2, help = "how often" }',
      'loud = { type = "bool", required = false }',
      "",
    ].join("\n"),
  );
  // No capabilities: ui is not there.
  fs.writeFileSync(path.join(show, "workspace", "scripts", "no_ui.lua"), 'local x = 1\nui.toast("hello")\n');
  fs.writeFileSync(path.join(show, "workspace", "scripts", "greet.lua"), 'for i = 1, args.times do log.info("hello " .. args.who .. (args.loud and "!" or "")) end\n');
  daemon = await kit.daemon(show);
  files = kit.tempDir("op-import-");
}, 60_000);

afterAll(async () => {
  await daemon?.stop();
  await kit.cleanup();
});

function file(name: string, text: string): string {
  const f = path.join(files, name);
  fs.writeFileSync(f, text);
  return f;
}

describe("import fills a table from a CSV or JSON file in one bundle", () => {
  it("--dry-run previews the rows and writes nothing", async () => {
    const csv = file("cues.csv", 'number,label,status\n1,"Preset, house",standby\n2,Go,\n3,Blackout,standby\n');
    const before = (await op("status", "--json")).json<{ bundles: number }>().bundles;
    const r = await op("import", csv, "--table", "lighting_cues", "--dry-run");
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain("dry run (nothing written): ");
    expect(r.stdout).toContain("3 to create, 0 to update, 0 unchanged");
    expect(r.stdout).toContain("+ row 1: number=1, label=Preset, house, status=standby");
    expect((await op("status", "--json")).json<{ bundles: number }>().bundles).toBe(before);
  });

  it("the import itself is one bundle; --key updates matching entities and creates the rest", async () => {
    const csv = path.join(files, "cues.csv");
    const before = (await op("status", "--json")).json<{ bundles: number }>().bundles;
    expect((await op("import", csv, "--table", "lighting_cues")).stdout).toMatch(/^imported .*3 created, 0 updated, 0 unchanged; bundle [0-9a-f]{12}/);
    expect((await op("status", "--json")).json<{ bundles: number }>().bundles).toBe(before + 1);

    const json = file("update.json", JSON.stringify([{ number: 2, label: "Go!" }, { number: 3, label: "Blackout" }, { number: 9, label: "New" }]));
    const preview = await op("import", json, "--table", "lighting_cues", "--key", "number", "--dry-run");
    expect(preview.stdout).toContain("1 to create, 1 to update, 1 unchanged");
    expect(preview.stdout).toContain("~ row 1: Q2 Go: label Go → Go!");
    expect((await op("import", json, "--table", "lighting_cues", "--key", "number")).code).toBe(0);
    const q = await op("query", "table == 'lighting_cues' ORDER BY number", "--json");
    expect(q.json<{ entities: { name: string }[] }>().entities.map((e) => e.name)).toEqual(["Q1 Preset, house", "Q2 Go!", "Q3 Blackout", "Q9 New"]);
  });

  it("every bad cell is named by row, line and column, and nothing is written", async () => {
    // Cue numbers are floats (point cues such as 4.5 are valid), so a bad one is no number at all.
    const csv = file("bad.csv", "number,label\nabc,x\n2,y\n4.5.1,z\n");
    const before = (await op("status", "--json")).json<{ bundles: number }>().bundles;
    const r = await op("import", csv, "--table", "lighting_cues");
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("InvalidOperation: ");
    expect(r.stderr).toContain('row 1 (line 2), column number: "abc" is not a number (float field)');
    expect(r.stderr).toContain('row 3 (line 4), column number: "4.5.1" is not a number (float field)');
    const unknown = await op("import", file("typo.csv", "number,labl\n1,x\n"), "--table", "lighting_cues", "--json");
    expect(unknown.json<{ error: { type: string; message: string } }>().error.message).toContain('header, column labl: unknown field "labl" (did you mean "label"?)');
    expect((await op("import", csv, "--json")).json<{ error: { type: string } }>().error.type).toBe("UsageError");
    expect((await op("status", "--json")).json<{ bundles: number }>().bundles).toBe(before);
  });
});

describe("query prints a table a technician reads at a glance", () => {
  it("a header, one row per entity by name and id; --columns picks the fields; --format lines and json", async () => {
    const t = await op("query", "table == 'lighting_cues' ORDER BY number", "--columns", "number,label,status");
    const lines = t.stdout.trim().split("\n");
    expect(lines[0]).toMatch(/^NAME +ID +NUMBER +LABEL +STATUS$/);
    expect(lines[1]).toMatch(/^Q1 Preset, house +\w{26} +1 +Preset, house +standby$/);
    expect(lines.at(-1)).toBe("4 entities");
    const l = await op("query", "table == 'lighting_cues' AND number == ?", "9", "--format", "lines");
    expect(l.stdout).toMatch(/^Q9 New {2}\w{26}\n {2}tables: lighting_cues\n/);
    const j = await op("query", "table == 'lighting_cues'", "--format", "json");
    expect(JSON.parse(j.stdout)).toMatchObject({ count: 4 });
    expect((await op("query", "table == 'lighting_cues'", "--format", "csv")).stderr).toContain("--format must be table, lines, json");
  });
});

describe("delete and unlink", () => {
  it("delete removes an entity and says which; get then says it is gone", async () => {
    const id = (await op("query", "table == 'lighting_cues' AND number == ?", "9", "--json")).json<{ ids: string[] }>().ids[0];
    const r = await op("delete", id);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`^deleted Q9 New \\(…${id.slice(-6)}\\): bundle [0-9a-f]{12} at \\d\\d:\\d\\d:\\d\\d`));
    expect((await op("get", id)).code).toBe(1);
  });

  it("unlink removes an edge by its id, or by type and both ends", async () => {
    const scene = (await op("create", "scenes", "name=Act 1", "--json")).json<{ id: string }>().id;
    const [a, b] = (await op("query", "table == 'lighting_cues' AND number <= 2 ORDER BY number", "--json")).json<{ ids: string[] }>().ids;
    const e1 = (await op("link", "scene", a, scene, "--json")).json<{ edgeId: string }>().edgeId;
    expect((await op("link", "scene", b, scene)).code).toBe(0);
    expect((await op("unlink", e1)).stdout.trim()).toBe(`removed edge ${e1}`);
    const r = await op("unlink", "scene", b, scene);
    expect(r.stdout.trim()).toMatch(/^removed scene edge Q2 Go! \(…\w{6}\) → Act 1 \(…\w{6}\)$/);
    const again = await op("unlink", "scene", b, scene, "--json");
    expect(again.code).toBe(1);
    expect(again.json<{ error: { type: string; message: string } }>().error).toMatchObject({ type: "InvalidOperation", message: expect.stringContaining("there is no scene edge") });
  });
});

describe("log -f starts with the last lines, as tail -f does", () => {
  it("prints the last --lines lines of the log before following it", async () => {
    const child = spawn(process.execPath, [path.join(ROOT, "bin", "openprod.js"), "log", "-f", "--lines", "3", "--dir", show], { env: kit.env, stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    child.stdout.on("data", (d: Buffer) => (out += d.toString()));
    const deadline = Date.now() + 15_000;
    while (out.split("\n").length < 4 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    const past = fs.readFileSync(path.join(show, ".openprod", "logs", "daemon.log"), "utf8").trim().split("\n").slice(-3);
    // A new line, logged while it follows, comes after them.
    expect((await op("set", "no-such-entity", "label", "x")).code).toBe(1);
    await op("sessions");
    child.kill("SIGINT");
    await new Promise((r) => child.on("exit", r));
    expect(out.split("\n").slice(0, 3)).toEqual(past);
  });
});

describe("scripts declare their arguments; run checks them and --help lists them", () => {
  it("openprod run <script> --help lists each argument with its type, default and help", async () => {
    const h = await op("run", "greet", "--help");
    expect(h.code, h.stderr).toBe(0);
    expect(h.stdout).toContain("usage: openprod run greet --arg who=<string> [--arg times=<int>] [--arg loud=<bool>]");
    expect(h.stdout).toMatch(/who +string +who to greet \(required\)/);
    expect(h.stdout).toMatch(/times +int +how often \(default 2\)/);
  });

  it("a missing argument is a usage error naming it; so are a wrong type and an unknown name, before any run", async () => {
    const missing = await op("run", "greet");
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain("UsageError: script greet: missing argument who (string: who to greet)");
    const wrong = await op("run", "greet", "--arg", "who=Sam", "--arg", "times=many", "--json");
    expect(wrong.code).toBe(2);
    expect(wrong.json<{ error: { type: string; message: string } }>().error).toMatchObject({ type: "UsageError", message: expect.stringContaining('argument times must be a whole number, got the string "many"') });
    const typo = await op("run", "greet", "--arg", "who=Sam", "--arg", "time=3");
    expect(typo.stderr).toContain('unknown argument time (did you mean "times"?)');
    expect((await op("runs", "--script", "greet", "--json")).json<{ runs: unknown[] }>().runs).toEqual([]);
  });

  it("given args are converted to their declared type and defaults filled in", async () => {
    const r = await op("run", "greet", "--arg", "who=42", "--arg", "loud=true");
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.match(/\[info\] hello 42!/g)).toHaveLength(2);
  });
});

describe("scripts and triggers are read from the configuration when no daemon runs", () => {
  it("a show whose daemon never ran lists its scripts (with declared args) and triggers", async () => {
    const fresh = await kit.newShow();
    const s = await kit.run(["scripts", "--dir", fresh, "--json"]);
    expect(s.code, s.stderr).toBe(0);
    const doc = s.json<{ running: boolean; scripts: { id: string; args?: { name: string }[] }[] }>();
    expect(doc.running).toBe(false);
    expect(doc.scripts.find((x) => x.id === "renumber_cues")?.args?.map((a) => a.name)).toEqual(["scene_id"]);
    const t = await kit.run(["triggers", "--dir", fresh]);
    expect(t.code, t.stderr).toBe(0);
    expect(t.stdout).toMatch(/^renumber_on_reorder {2}lighting\.cue\.order_index → renumber_cues/m);
    expect(t.stdout).toContain("(no daemon running: read from the show's configuration");
    const h = await kit.run(["run", "renumber_cues", "--help", "--dir", fresh]);
    expect(h.stdout).toMatch(/scene_id +entity +the scene whose cues are renumbered \(required\)/);
  });
});

describe("script errors teach: file:line and the capability that would allow the call", () => {
  it("using ui without a ui capability names the line and the capabilities that bring ui", async () => {
    const r = await op("run", "no_ui");
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/ScriptError: \S*no_ui\.lua:2: .*attempt to index a nil value \(global 'ui'\): ui is available with the ui\.notify \(ui\.toast, ui\.progress\)/);
  });
});
