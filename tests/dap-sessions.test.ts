import { spawn } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CliKit, ROOT } from "./fixtures/daemon-cli.ts";
import type { DaemonProcess } from "./fixtures/daemon-cli.ts";
import { DapClient, openprodDebug } from "./fixtures/dap-client.ts";

const kit = new CliKit();
let show = "";
let daemon: DaemonProcess;

const file = (name: string): string => path.join(show, "workspace", "scripts", `${name}.lua`);

beforeAll(async () => {
  await kit.build();
  show = await kit.newShow();
  fs.writeFileSync(file("dbg_attach"), `function main()\n  local who = context.user() or "nobody"\n  log.info("attached run by " .. who)\nend\n`);
  fs.writeFileSync(file("dbg_spin"), `done = false\nfunction main()\n  local n = 0\n  while not done do n = n + 1 end\n  log.info("spun " .. tostring(n > 0))\nend\n`);
  fs.writeFileSync(file("dbg_short"), `function main()\n  local started = true\n  log.info("short limit survived")\nend\n`);
  fs.writeFileSync(file("dbg_co"), `function main()\n  local co = coroutine.create(function(a)\n    local inside = a * 2\n    return inside\n  end)\n  local ok, v = coroutine.resume(co, 21)\n  log.info("co gave " .. v)\nend\n`);
  fs.writeFileSync(file("dbg_plain"), `function main()\n  log.info("plain run")\nend\n`);
  fs.appendFileSync(path.join(show, "openprod.toml"), `\n[script.dbg_short]\ntimeout = "1s"\n\n[script.dbg_spin]\ntimeout = "20s"\n`);
  daemon = await kit.daemon(show);
}, 90_000);

afterAll(async () => {
  await daemon?.stop();
  await kit.cleanup();
});

async function initialized(c: DapClient): Promise<void> {
  await c.ok("initialize", { adapterID: "openprod", linesStartAt1: true, pathFormat: "path" });
  await c.nextEvent("initialized");
}

describe("debugging the next run of a script (attach)", () => {
  it("the script's next run, started by someone else, waits for the debugger and stops at its breakpoint", async () => {
    const cmd = openprodDebug(kit.env, ["dbg_attach", "--attach", "--dir", show, "--json"]);
    const { port, mode } = await cmd.started;
    expect(mode).toBe("attach");
    const c = await DapClient.connect(port);
    await initialized(c);
    const wrong = await c.request("launch", {});
    expect(wrong.success).toBe(false);
    expect(wrong.message).toContain('send "attach", not "launch"');
    await c.ok("attach", {});
    // The run starts before the debugger is configured: it waits for configurationDone.
    const run = kit.run(["run", "dbg_attach", "--dir", show, "--as", "stage-manager"], 60_000);
    await new Promise((r) => setTimeout(r, 500));
    await c.ok("setBreakpoints", { source: { path: file("dbg_attach") }, breakpoints: [{ line: 3 }] });
    await c.ok("configurationDone");
    const hit = await c.nextEvent("stopped", (e) => e.body?.reason === "breakpoint");
    const threadId = hit.body?.threadId as number;
    const frames = (await c.ok("stackTrace", { threadId })).stackFrames as { id: number; line: number }[];
    expect(frames[0].line).toBe(3);
    const who = await c.ok("evaluate", { expression: "who", frameId: frames[0].id });
    expect(who.result).toBe('"stage-manager"');
    await c.ok("continue", { threadId });
    await c.nextEvent("exited");
    expect(c.output()).toContain("attached run by stage-manager");
    const r = await run;
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain("attached run by stage-manager");
    c.close();
    expect(await cmd.exited).toBe(0);
    // Only the next run: the one after runs without waiting.
    const again = await kit.run(["run", "dbg_attach", "--dir", show]);
    expect(again.code, again.stderr).toBe(0);
  }, 90_000);
});

describe("pausing, and the time limit while paused", () => {
  it("pause stops a busy loop; setting a global from the debugger lets it finish", async () => {
    const cmd = openprodDebug(kit.env, ["dbg_spin", "--dir", show, "--json"]);
    const c = await DapClient.connect((await cmd.started).port);
    await initialized(c);
    await c.ok("launch", {});
    await c.ok("configurationDone");
    await new Promise((r) => setTimeout(r, 300));
    const threads = (await c.ok("threads")).threads as { id: number }[];
    await c.ok("pause", { threadId: threads[0].id });
    const e = await c.nextEvent("stopped", (x) => x.body?.reason === "pause");
    const threadId = e.body?.threadId as number;
    const frames = (await c.ok("stackTrace", { threadId })).stackFrames as { id: number; line: number; name: string }[];
    expect(frames[0]).toMatchObject({ line: 4, name: "main" });
    const scopes = (await c.ok("scopes", { frameId: frames[0].id })).scopes as { name: string; variablesReference: number }[];
    const globals = scopes.find((s) => s.name === "Globals")?.variablesReference ?? 0;
    const set = await c.ok("setVariable", { variablesReference: globals, name: "done", value: "true" });
    expect(set.value).toBe("true");
    await c.ok("continue", { threadId });
    const exited = await c.nextEvent("exited");
    expect(exited.body?.exitCode).toBe(0);
    expect(c.output()).toContain("spun true");
    c.close();
    expect(await cmd.exited).toBe(0);
  }, 60_000);

  it("a run paused past its 1 s time limit is not stopped for it", async () => {
    const cmd = openprodDebug(kit.env, ["dbg_short", "--dir", show, "--json"]);
    const c = await DapClient.connect((await cmd.started).port);
    await initialized(c);
    await c.ok("launch", {});
    await c.ok("setBreakpoints", { source: { path: file("dbg_short") }, breakpoints: [{ line: 3 }] });
    await c.ok("configurationDone");
    const e = await c.nextEvent("stopped");
    await new Promise((r) => setTimeout(r, 2500));
    await c.ok("continue", { threadId: e.body?.threadId as number });
    const exited = await c.nextEvent("exited");
    expect(c.output()).toContain("short limit survived");
    expect(exited.body?.exitCode).toBe(0);
    c.close();
    expect(await cmd.exited).toBe(0);
  }, 60_000);
});

describe("coroutines are threads", () => {
  it("a breakpoint inside a coroutine the script created stops in its thread; the main thread's stack is there too", async () => {
    const cmd = openprodDebug(kit.env, ["dbg_co", "--dir", show, "--json"]);
    const c = await DapClient.connect((await cmd.started).port);
    await initialized(c);
    await c.ok("launch", {});
    await c.ok("setBreakpoints", { source: { path: file("dbg_co") }, breakpoints: [{ line: 4 }] });
    await c.ok("configurationDone");
    const e = await c.nextEvent("stopped");
    const threads = (await c.ok("threads")).threads as { id: number; name: string }[];
    expect(threads.map((t) => t.name)).toEqual(["main", expect.stringMatching(/^coroutine/)]);
    const inCo = threads[1].id;
    expect(e.body?.threadId).toBe(inCo);
    const coFrames = (await c.ok("stackTrace", { threadId: inCo })).stackFrames as { id: number; line: number }[];
    expect(coFrames[0].line).toBe(4);
    const inside = await c.ok("evaluate", { expression: "inside", frameId: coFrames[0].id });
    expect(inside.result).toBe("42");
    const mainFrames = (await c.ok("stackTrace", { threadId: threads[0].id })).stackFrames as { line: number; name: string }[];
    expect(mainFrames[0]).toMatchObject({ line: 6, name: "main" });
    await c.ok("continue", { threadId: inCo });
    await c.nextEvent("exited");
    expect(c.output()).toContain("co gave 42");
    c.close();
    expect(await cmd.exited).toBe(0);
  }, 60_000);
});

describe("an editor that starts the adapter itself (--stdio)", () => {
  it("speaks DAP on stdin/stdout and runs the script to the end", async () => {
    const child = spawn(process.execPath, [path.join(ROOT, "bin", "openprod.js"), "debug", "dbg_plain", "--stdio", "--dir", show], { env: kit.env, stdio: ["pipe", "pipe", "pipe"] });
    let stderr = "";
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    const exitCode = new Promise<number>((resolve) => child.on("close", (code) => resolve(code ?? -1)));
    const c = DapClient.overStdio(child);
    await initialized(c);
    await c.ok("launch", {});
    await c.ok("setExceptionBreakpoints", { filters: [] });
    await c.ok("configurationDone");
    const exited = await c.nextEvent("exited");
    expect(exited.body?.exitCode).toBe(0);
    expect(c.output()).toContain("plain run");
    c.close();
    expect(await exitCode, stderr).toBe(0);
    expect(stderr).toContain("run run-");
  }, 60_000);
});

describe("bad input gets a clear answer, never a crash", () => {
  it("an unknown request, bad arguments and an unknown exception filter are error responses; the session goes on", async () => {
    const cmd = openprodDebug(kit.env, ["dbg_plain", "--dir", show, "--json"]);
    const c = await DapClient.connect((await cmd.started).port);
    await initialized(c);
    const unknown = await c.request("frobnicate", { x: 1 });
    expect(unknown.success).toBe(false);
    expect(unknown.message).toContain('unknown request "frobnicate"');
    const early = await c.request("stackTrace", { threadId: 1 });
    expect(early.success).toBe(false);
    expect(early.message).toContain("send launch first");
    const filter = await c.request("setExceptionBreakpoints", { filters: ["everything"] });
    expect(filter.success).toBe(false);
    expect(filter.message).toContain('unknown filter "everything"');
    const bp = await c.request("setBreakpoints", { source: { path: "/etc/passwd" }, breakpoints: [{ line: 1 }] });
    expect(bp.success).toBe(false);
    expect(bp.message).toContain("is not a file of the show");
    const line = await c.request("setBreakpoints", { source: { path: file("dbg_plain") }, breakpoints: [{ line: "two" }] });
    expect(line.message).toContain('"breakpoints[0].line" must be a whole number');
    c.writeRaw('Content-Length: 9\r\n\r\n{"seq": 1');
    await c.nextEvent("output", (e) => String(e.body?.output).includes("the body is not JSON"));
    await c.ok("launch", {});
    await c.ok("configurationDone");
    const exited = await c.nextEvent("exited");
    expect(exited.body?.exitCode).toBe(0);
    c.close();
    expect(await cmd.exited).toBe(0);
  }, 60_000);

  it("malformed framing is reported and the connection closed; the next client is served", async () => {
    const cmd = openprodDebug(kit.env, ["dbg_plain", "--dir", show, "--json"]);
    const { port } = await cmd.started;
    const bad = await DapClient.connect(port);
    bad.writeRaw("Content-Lenght 12\r\n\r\n{}");
    const e = await bad.nextEvent("output");
    expect(String(e.body?.output)).toContain("malformed DAP framing");
    await bad.closed();
    const c = await DapClient.connect(port);
    await initialized(c);
    await c.ok("launch", {});
    await c.ok("configurationDone");
    await c.nextEvent("exited");
    c.close();
    expect(await cmd.exited).toBe(0);
    // The daemon is still there.
    const status = await kit.run(["status", "--dir", show]);
    expect(status.code, status.stderr).toBe(0);
  }, 60_000);
});
