import fs from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CliKit } from "./fixtures/daemon-cli.ts";
import type { DaemonProcess } from "./fixtures/daemon-cli.ts";
import { DapClient, openprodDebug } from "./fixtures/dap-client.ts";
import type { DapEvent } from "./fixtures/dap-client.ts";

const kit = new CliKit();
let show = "";
let daemon: DaemonProcess;

// Line numbers matter: the tests set breakpoints on them.
const MAIN = `local helper = require("workspace/dbg_helper")
local config = { name = "stage", nested = { depth = 2, list = { 10, 20, 30 } } }
local function double(x)
  local y = x * 2
  return y
end
function main()
  local count = config.nested.depth - 2
  for i = 1, 5 do
    count = count + double(i)
  end
  log.info("count is " .. count)
  local total = helper.sum({ 1, 2, 3 })
  print("total", total)
  local ok = pcall(function() error("caught failure") end)
  core.create_entity({ table = "lighting_fixtures", fields = { unit_number = "D" .. total, channel = count } })
  log.info("done " .. tostring(args.label) .. " " .. tostring(ok))
end
`;

const HELPER = `local M = {}
function M.sum(list)
  local s = 0
  for _, v in ipairs(list) do s = s + v end
  return s
end
return M
`;

const LOOP = `function main()
  local hits = 0
  for i = 1, 20 do
    hits = hits + i
  end
  log.info("hits " .. hits)
end
`;

const mainFile = (): string => path.join(show, "workspace", "scripts", "dbg_main.lua");
const helperFile = (): string => path.join(show, "workspace", "modules", "dbg_helper.lua");
const loopFile = (): string => path.join(show, "workspace", "scripts", "dbg_loop.lua");

beforeAll(async () => {
  await kit.build();
  show = await kit.newShow();
  fs.mkdirSync(path.join(show, "workspace", "modules"), { recursive: true });
  fs.writeFileSync(mainFile(), MAIN);
  fs.writeFileSync(helperFile(), HELPER);
  fs.writeFileSync(loopFile(), LOOP);
  fs.appendFileSync(path.join(show, "openprod.toml"), `\n[script.dbg_main]\ncapabilities = ["data.write:lighting.*"]\n`);
  daemon = await kit.daemon(show);
}, 90_000);

afterAll(async () => {
  await daemon?.stop();
  await kit.cleanup();
});

/** Starts `openprod debug` and connects a DAP client to the port it prints, up to configurationDone. */
async function session(script: string, extra: string[], configure: (c: DapClient) => Promise<void>): Promise<{ c: DapClient; cmd: ReturnType<typeof openprodDebug> }> {
  const cmd = openprodDebug(kit.env, [script, "--dir", show, "--json", ...extra]);
  const { port } = await cmd.started;
  const c = await DapClient.connect(port);
  const init = await c.ok("initialize", { adapterID: "openprod", linesStartAt1: true, columnsStartAt1: true, pathFormat: "path" });
  expect(init.supportsConfigurationDoneRequest).toBe(true);
  await c.nextEvent("initialized");
  await c.ok("launch", {});
  try {
    await configure(c);
    await c.ok("configurationDone");
  } catch (e) {
    throw new Error(`${(e as Error).message}; debug console: ${c.output()}; daemon: ${daemon.stderr}`);
  }
  return { c, cmd };
}

const stopped = (c: DapClient, reason?: string): Promise<DapEvent> => c.nextEvent("stopped", (e) => reason === undefined || e.body?.reason === reason);

async function topFrame(c: DapClient, threadId: number): Promise<{ id: number; name: string; line: number; source: { path: string } }> {
  const st = await c.ok("stackTrace", { threadId, startFrame: 0, levels: 20 });
  return (st.stackFrames as { id: number; name: string; line: number; source: { path: string } }[])[0];
}

async function variables(c: DapClient, ref: number): Promise<Record<string, { value: string; variablesReference: number }>> {
  const v = await c.ok("variables", { variablesReference: ref });
  return Object.fromEntries((v.variables as { name: string; value: string; variablesReference: number }[]).map((x) => [x.name, x]));
}

describe("a script author debugs a script from the editor", () => {
  it("stops at a breakpoint, shows locals and a nested table, steps over, into a required module and out, evaluates, breaks on an error and runs to the end", async () => {
    const { c, cmd } = await session("dbg_main", ["--arg", "label=hello"], async (c) => {
      const bp = await c.ok("setBreakpoints", { source: { path: mainFile() }, breakpoints: [{ line: 10 }] });
      expect((bp.breakpoints as { verified: boolean }[])[0].verified).toBe(true);
      await c.ok("setExceptionBreakpoints", { filters: ["error"] });
    });

    const hit = await stopped(c, "breakpoint");
    const threadId = hit.body?.threadId as number;
    const threads = (await c.ok("threads")).threads as { id: number; name: string }[];
    expect(threads.map((t) => t.name)).toContain("main");
    let frame = await topFrame(c, threadId);
    expect(frame).toMatchObject({ name: "main", line: 10 });
    expect(frame.source.path).toBe(mainFile());

    const scopes = (await c.ok("scopes", { frameId: frame.id })).scopes as { name: string; variablesReference: number }[];
    expect(scopes.map((s) => s.name)).toEqual(["Locals", "Upvalues", "Globals", "args"]);
    const locals = await variables(c, scopes[0].variablesReference);
    expect(locals.count.value).toBe("0");
    expect(locals.i.value).toBe("1");
    const upvalues = await variables(c, scopes[1].variablesReference);
    expect(Object.keys(upvalues)).toEqual(expect.arrayContaining(["config", "double"]));
    const cfg = await variables(c, upvalues.config.variablesReference);
    expect(cfg.name.value).toBe('"stage"');
    const nested = await variables(c, cfg.nested.variablesReference);
    expect(nested.depth.value).toBe("2");
    const list = await c.ok("variables", { variablesReference: nested.list.variablesReference, start: 1, count: 2 });
    expect((list.variables as { name: string; value: string }[]).map((v) => `${v.name}=${v.value}`)).toEqual(["[2]=20", "[3]=30"]);
    const args = await variables(c, scopes[3].variablesReference);
    expect(args.label.value).toBe('"hello"');
    const globals = await variables(c, scopes[2].variablesReference);
    expect(Object.keys(globals)).toContain("main");

    const ev = await c.ok("evaluate", { expression: "count + i * 100 + #config.nested.list", frameId: frame.id, context: "watch" });
    expect(ev.result).toBe("103");
    const write = await c.request("evaluate", { expression: "count = 5", frameId: frame.id, context: "repl" });
    expect(write.success).toBe(false);
    expect(write.message).toMatch(/read-only/);
    const host = await c.request("evaluate", { expression: "core.query(\"table == 'scenes'\")", frameId: frame.id, context: "repl" });
    expect(host.success).toBe(false);
    expect(host.message).toMatch(/read-only: core\.query is not called/);
    const set = await c.ok("setVariable", { variablesReference: scopes[0].variablesReference, name: "count", value: "100" });
    expect(set.value).toBe("100");

    // Step over: the loop's next round (the for line), then its body again.
    await c.ok("next", { threadId });
    await stopped(c, "step");
    frame = await topFrame(c, threadId);
    expect(frame.line).toBe(9);
    await c.ok("setBreakpoints", { source: { path: mainFile() }, breakpoints: [{ line: 13 }] });
    await c.ok("continue", { threadId });
    await stopped(c, "breakpoint");
    frame = await topFrame(c, threadId);
    expect(frame.line).toBe(13);
    expect((await variables(c, ((await c.ok("scopes", { frameId: frame.id })).scopes as { variablesReference: number }[])[0].variablesReference)).count.value).toBe("130");

    // Into the required module: its real file, then back out.
    await c.ok("stepIn", { threadId });
    await stopped(c, "step");
    frame = await topFrame(c, threadId);
    expect(frame.source.path).toBe(helperFile());
    expect(frame.line).toBe(3);
    expect(frame.name).toMatch(/sum/);
    // Lua reports no new line on returning into line 13: the step ends on the next one.
    await c.ok("stepOut", { threadId });
    await stopped(c, "step");
    frame = await topFrame(c, threadId);
    expect(frame.source.path).toBe(mainFile());
    expect(frame.line).toBe(14);

    // The pcall'd error stops where it is raised.
    await c.ok("continue", { threadId });
    const ex = await stopped(c, "exception");
    expect(String(ex.body?.text)).toContain("caught failure");
    frame = await topFrame(c, threadId);
    expect(frame.line).toBe(15);

    await c.ok("continue", { threadId });
    const exited = await c.nextEvent("exited");
    expect(exited.body?.exitCode).toBe(0);
    await c.nextEvent("terminated");
    expect(c.output()).toContain("count is 130");
    expect(c.output()).toContain("total\t6");
    expect(c.output()).toContain("done hello false");
    c.close();

    expect(await cmd.exited).toBe(0);
    const end = cmd.lines().at(-1) as { status: string; session_id: string; summary: string[] };
    expect(end.status).toBe("ok");
    expect(end.summary.join("\n")).toContain(`openprod session commit ${end.session_id}`);
    expect(end.summary.join("\n")).toContain(`openprod session discard ${end.session_id}`);
    // The overlay really holds the run's change, for review.
    const shown = await kit.run(["session", "show", end.session_id, "--dir", show]);
    expect(shown.stdout + shown.stderr).toContain("D6");
  }, 90_000);

  it("conditions, hit counts and log points decide when a breakpoint stops", async () => {
    const { c, cmd } = await session("dbg_loop", [], async (c) => {
      const r = await c.ok("setBreakpoints", {
        source: { path: loopFile() },
        breakpoints: [{ line: 4, condition: "i == 7" }, { line: 3, hitCondition: "bogus" }, { line: 6, logMessage: "total {hits} after {i == nil and 'the loop' or i}" }],
      });
      const bps = r.breakpoints as { verified: boolean; message?: string }[];
      expect(bps[0].verified).toBe(true);
      expect(bps[1].verified).toBe(false);
      expect(bps[1].message).toContain('hit condition "bogus"');
    });
    let e = await stopped(c, "breakpoint");
    const threadId = e.body?.threadId as number;
    let frame = await topFrame(c, threadId);
    const ref = ((await c.ok("scopes", { frameId: frame.id })).scopes as { variablesReference: number }[])[0].variablesReference;
    expect((await variables(c, ref)).i.value).toBe("7");

    // The third hit from now on: i == 10.
    await c.ok("setBreakpoints", { source: { path: loopFile() }, breakpoints: [{ line: 4, hitCondition: "== 3" }, { line: 6, logMessage: "total {hits}" }] });
    await c.ok("continue", { threadId });
    e = await stopped(c, "breakpoint");
    frame = await topFrame(c, threadId);
    const ref2 = ((await c.ok("scopes", { frameId: frame.id })).scopes as { variablesReference: number }[])[0].variablesReference;
    expect((await variables(c, ref2)).i.value).toBe("10");
    await c.ok("continue", { threadId });
    await c.nextEvent("exited");
    // The log point printed and did not stop.
    expect(c.output()).toContain("total 210\n");
    expect(c.events.filter((x) => x.event === "stopped")).toHaveLength(2);
    c.close();
    expect(await cmd.exited).toBe(0);
  }, 60_000);
});
