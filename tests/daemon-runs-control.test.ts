// Runs a person can stop and watch, and commits whose conflicts mean something: a real daemon
// process, driven over its socket (and `openprod cancel` through the CLI binary).
import { spawn } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connect } from "../protocol/index.ts";
import type { Client, DaemonEvent, RunSummary } from "../protocol/index.ts";
import { CliKit, ROOT } from "./fixtures/daemon-cli.ts";
import type { DaemonProcess } from "./fixtures/daemon-cli.ts";

const kit = new CliKit();
let show = "";
let daemon: DaemonProcess;
let sm: Client;
const events: DaemonEvent[] = [];

const SCRIPTS: Record<string, string> = {
  // Writes one cue, then waits: what it wrote must be visible while it waits.
  slow_number: `
function main()
  core.set_field(args.cue, "number", 500)
  core.await(core.sleep(20000))
  if context.cancelled() then return end
  core.set_field(args.cue, "number", 501)
end
`,
  // Writes one cue, then computes without a single call to the host until cancelled.
  busy_number: `
function main()
  core.set_field(args.cue, "number", 700)
  local n = 0
  while not context.cancelled() do n = n + 1 end
end
`,
  // autoCommit: one bundle written, then a wait that cancellation cuts short; on_shutdown writes its own bundle.
  slow_label: `
function main()
  core.set_field(args.cue, "label", "main wrote this")
  core.await(core.sleep(20000))
  if context.cancelled() then return end
  core.set_field(args.cue, "label", "never written")
end
function on_shutdown()
  log.info("slow_label shutting down")
  core.set_field(args.cue, "status", "stopped")
end
`,
  // Run by a trigger when a cue's fired_at is set; takes its time.
  slow_mark: `
function main()
  core.set_field(context.trigger_entity(), "number", 900)
  core.await(core.sleep(20000))
end
`,
  // Ignores cancellation altogether.
  stubborn: `
function main()
  core.set_field(args.cue, "number", 800)
  while true do end
end
`,
  // Deletes a cue in its session: canonical may edit the cue before a person commits.
  drop_cue: `
function main()
  core.delete_entity(args.cue)
end
`,
  ticker: `
function main()
  while not context.cancelled() do core.await(core.sleep(50)) end
end
function on_shutdown() log.info("ticker stopped") end
`,
};

const TOML = `
[script.slow_number]
capabilities = ["data.write:lighting.cue.number"]

[script.busy_number]
capabilities = ["data.write:lighting.cue.number"]

[script.slow_label]
execution_mode = "autoCommit"
capabilities = ["data.write:lighting.cue.label", "data.write:lighting.cue.status"]

[script.slow_mark]
capabilities = ["data.write:lighting.cue.number"]

[trigger.mark_on_fired]
on_field_change = "lighting.cue.fired_at"
run_script = "slow_mark"
mode = "session"

[script.stubborn]
shutdown_timeout = "1s"
capabilities = ["data.write:lighting.cue.number"]

[script.ticker]
mode = "background"

[script.drop_cue]
capabilities = ["data.write:lighting.*"]
`;

/** The docs' supersede example, so the documented configuration is the one tested. */
function docsSupersedeTrigger(): string {
  const doc = fs.readFileSync(path.join(ROOT, "docs", "triggers.md"), "utf8");
  const section = doc.slice(doc.indexOf("## A newer firing replaces the open session"));
  const block = /```toml\n([\s\S]*?)```/.exec(section)?.[1];
  if (!block || !block.includes("supersede = true")) throw new Error("docs/triggers.md has no supersede example");
  return block;
}

const op = (...args: string[]) => kit.run([...args, "--dir", show]);

async function eventually<T>(f: () => T | undefined | Promise<T | undefined>, what: string, ms = 15_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await f();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

let scene = "";
const cues: string[] = [];

async function newCue(order: number, number = 0): Promise<string> {
  const r = (await sm.request("apply", { ops: [{ op: "CreateEntity", tables: ["lighting_cues"], fields: { number, order_index: order, scene, status: "standby" } }] })) as { results: { id: string }[] };
  const id = r.results[0].id;
  await sm.request("edge.create", { type: "scene", source: id, target: scene });
  return id;
}

const field = async (id: string, f: string): Promise<unknown> => ((await sm.request("get", { id, field: f })) as { value: unknown }).value;
const openSessions = async (): Promise<{ id: string; script: string; runId: string; ops: number }[]> =>
  ((await sm.request("sessions.list", {})) as { sessions: { id: string; script: string; runId: string; ops: number }[] }).sessions;

beforeAll(async () => {
  await kit.build();
  show = await kit.newShow();
  for (const [name, src] of Object.entries(SCRIPTS)) fs.writeFileSync(path.join(show, "workspace", "scripts", `${name}.lua`), src);
  const file = path.join(show, "openprod.toml");
  const toml = fs.readFileSync(file, "utf8");
  const replaced = toml.replace(/\[trigger\.renumber_on_reorder\][\s\S]*?mode = "session"\n/, docsSupersedeTrigger());
  if (replaced === toml) throw new Error("the show's renumber_on_reorder trigger was not found");
  fs.writeFileSync(file, replaced + TOML);
  daemon = await kit.daemon(show, ["--no-network"]);
  sm = await connect(show, { name: "stage-manager" });
  await sm.subscribe((e) => void events.push(e), ["overlay.ops", "session.discarded", "run.finished", "progress"]);
  const s = (await sm.request("apply", { ops: [{ op: "CreateEntity", tables: ["scenes"], fields: { name: "Act 1" } }] })) as { results: { id: string }[] };
  scene = s.results[0].id;
  for (const order of [1, 2, 3]) cues.push(await newCue(order));
}, 90_000);

afterAll(async () => {
  sm?.close();
  await daemon?.stop();
  await kit.cleanup();
});

describe("a person stops any run: one-shot, trigger or background", () => {
  it("openprod cancel <run-id> stops a waiting session run and discards its overlay", async () => {
    const { runId } = (await sm.request("scripts.run", { script: "slow_number", args: { cue: cues[0] }, wait: false })) as { runId: string };
    await eventually(() => events.find((e) => e.type === "overlay.ops" && e.runId === runId), "the run's first write");
    const r = await op("cancel", runId);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain(`cancelled ${runId} (slow_number, one-shot): cancelled`);
    const summary = (await sm.request("runs.wait", { runId })) as RunSummary;
    expect(summary).toMatchObject({ status: "cancelled", sessionStatus: "discarded" });
    expect((await openSessions()).filter((s) => s.runId === runId)).toEqual([]);
    expect(await field(cues[0], "number")).toBe(0);
  });

  it("runs.cancel with keepOverlay leaves the session open for review", async () => {
    const { runId } = (await sm.request("scripts.run", { script: "slow_number", args: { cue: cues[1] }, wait: false })) as { runId: string };
    await eventually(() => events.find((e) => e.type === "overlay.ops" && e.runId === runId), "the run's first write");
    const r = (await sm.request("runs.cancel", { target: runId, keepOverlay: true })) as { cancelled: (RunSummary & { kind: string })[] };
    expect(r.cancelled).toEqual([expect.objectContaining({ runId, kind: "one-shot", status: "cancelled", sessionStatus: "open", ops: 1 })]);
    const kept = (await openSessions()).find((s) => s.runId === runId);
    expect(kept).toMatchObject({ script: "slow_number", ops: 1 });
    await sm.request("sessions.discard", { id: kept?.id as string });
  });

  it("cancelling an autoCommit run by script name keeps its completed bundle, and on_shutdown's bundle commits", async () => {
    const { runId } = (await sm.request("scripts.run", { script: "slow_label", args: { cue: cues[2] }, wait: false })) as { runId: string };
    await eventually(async () => ((await field(cues[2], "label")) === "main wrote this" ? true : undefined), "main's bundle");
    const r = await op("cancel", "slow_label", "--json");
    expect(r.code, r.stderr).toBe(0);
    expect(r.json<{ cancelled: { runId: string; status: string; bundles: number }[] }>().cancelled).toEqual([expect.objectContaining({ runId, status: "cancelled", bundles: 2 })]);
    expect(await field(cues[2], "label")).toBe("main wrote this");
    expect(await field(cues[2], "status")).toBe("stopped");
    const { record } = (await sm.request("runs.get", { runId })) as { record: { log: { message: string }[] } };
    expect(record.log.map((l) => l.message)).toContain("slow_label shutting down");
  });

  it("openprod cancel <script> stops a run a trigger started; its trace says cancelled", async () => {
    await sm.request("entity.set", { id: cues[0], field: "fired_at", value: "manual" });
    const running = await eventually(async () => {
      const { runs } = (await sm.request("runs.list", { script: "slow_mark" })) as { runs: { runId: string; status: string }[] };
      return runs.find((x) => x.status === "running");
    }, "the trigger's run");
    const r = await op("cancel", "slow_mark");
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain(`cancelled ${running.runId} (slow_mark, one-shot): cancelled`);
    const trace = await eventually(async () => {
      const { traces } = (await sm.request("triggers.traces", { trigger: "mark_on_fired" })) as { traces: { runId: string | null; runStatus: string | null }[] };
      return traces.find((t) => t.runId === running.runId && t.runStatus !== null);
    }, "the trace");
    expect(trace.runStatus).toBe("cancelled");
    expect(await field(cues[0], "number")).toBe(0);
  });

  it("openprod cancel <script> stops a background script for good: on_shutdown runs, no restart", async () => {
    await sm.request("scripts.start", { script: "ticker" });
    const r = await op("cancel", "ticker");
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/cancelled run-\S+ \(ticker, background\): cancelled/);
    await new Promise((res) => setTimeout(res, 300));
    const { scripts } = (await sm.request("scripts.ps", {})) as { scripts: { id: string; state: string; restarts: number }[] };
    expect(scripts.find((s) => s.id === "ticker")).toMatchObject({ state: "stopped", restarts: 0 });
  });

  it("Ctrl-C in openprod run stops the run (without a terminal to ask, its overlay is discarded)", async () => {
    const before = events.length;
    const child = spawn(process.execPath, [path.join(ROOT, "bin", "openprod.js"), "run", "slow_number", "--arg", `cue=${cues[0]}`, "--dir", show], { env: kit.env, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.on("close", (code) => resolve(code)));
    const wrote = await eventually(() => events.slice(before).find((e) => e.type === "overlay.ops" && e.script === "slow_number"), "the CLI's run to write");
    child.kill("SIGINT");
    expect(await exited).toBe(1);
    const runId = (wrote as { runId: string }).runId;
    expect(stdout).toContain(`stopping run ${runId}...`);
    expect(stdout).toContain(`run ${runId}: cancelled, 1 op(s)`);
    expect((await openSessions()).filter((s) => s.runId === runId)).toEqual([]);
  });

  it("Ctrl-C in openprod run on a terminal asks first: answering y keeps the overlay for review", async () => {
    const before = events.length;
    // `script` (util-linux) gives the CLI a real terminal; Ctrl-C is typed into it.
    const cli = [process.execPath, path.join(ROOT, "bin", "openprod.js"), "run", "slow_number", "--arg", `cue=${cues[1]}`, "--dir", show].map((a) => `'${a}'`).join(" ");
    const child = spawn("script", ["-qfec", cli, "/dev/null"], { env: kit.env, stdio: ["pipe", "pipe", "pipe"] });
    let stdout = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.on("close", (code) => resolve(code)));
    const wrote = await eventually(() => events.slice(before).find((e) => e.type === "overlay.ops" && e.script === "slow_number"), "the CLI's run to write");
    const runId = (wrote as { runId: string }).runId;
    child.stdin.write("\x03");
    await eventually(() => (stdout.includes("keep its overlay for review? [y/N]") ? true : undefined), "the question");
    child.stdin.write("y\r");
    await exited;
    expect(stdout).toContain(`stopping run ${runId} (its overlay is kept for review)...`);
    expect(stdout).toContain(`session s-${runId} is open for review`);
    const kept = (await openSessions()).find((s) => s.runId === runId);
    expect(kept).toMatchObject({ script: "slow_number", ops: 1 });
    await sm.request("sessions.discard", { id: kept?.id as string });
  });

  it("a run that ignores cancellation is killed once its shutdown_timeout and the grace after it are over", async () => {
    const { runId } = (await sm.request("scripts.run", { script: "stubborn", args: { cue: cues[0] }, wait: false })) as { runId: string };
    await eventually(() => events.find((e) => e.type === "overlay.ops" && e.runId === runId), "the run's first write");
    const r = (await sm.request("runs.cancel", { target: runId })) as { cancelled: RunSummary[] };
    expect(r.cancelled[0]).toMatchObject({ runId, status: "killed", sessionStatus: "discarded" });
    expect(await field(cues[0], "number")).toBe(0);
  }, 30_000);

  it("nothing running under that name is a clear EntityNotFound", async () => {
    const r = await op("cancel", "renumber_cues");
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('nothing to cancel: no running run of script "renumber_cues"');
  });
});

describe("a session's preview keeps up while its script waits or computes", () => {
  it("a write before core.sleep reaches the overlay (overlay.ops) while the run is still sleeping", async () => {
    const { runId } = (await sm.request("scripts.run", { script: "slow_number", args: { cue: cues[1] }, wait: false })) as { runId: string };
    const seen = await eventually(() => events.find((e) => e.type === "overlay.ops" && e.runId === runId), "overlay.ops while sleeping", 5000);
    expect(seen).toMatchObject({ total: 1 });
    expect(events.some((e) => e.type === "run.finished" && e.runId === runId)).toBe(false);
    await sm.request("runs.cancel", { target: runId });
  });

  it("a write followed by a long computation without host calls is flushed within the 50 ms tick", async () => {
    const { runId } = (await sm.request("scripts.run", { script: "busy_number", args: { cue: cues[1] }, wait: false })) as { runId: string };
    await eventually(() => events.find((e) => e.type === "overlay.ops" && e.runId === runId), "overlay.ops while computing", 5000);
    expect(events.some((e) => e.type === "run.finished" && e.runId === runId)).toBe(false);
    const r = (await sm.request("runs.cancel", { target: runId })) as { cancelled: RunSummary[] };
    expect(r.cancelled[0]).toMatchObject({ status: "cancelled", sessionStatus: "discarded" });
  });
});

describe("commit conflicts are only real disagreements", () => {
  it("two runs that computed the same numbers commit one after the other without a conflict", async () => {
    const a = (await sm.request("scripts.run", { script: "renumber_cues", args: { scene_id: scene } })) as RunSummary;
    const b = (await sm.request("scripts.run", { script: "renumber_cues", args: { scene_id: scene } })) as RunSummary;
    expect((await sm.request("sessions.commit", { id: a.sessionId as string })) as { status: string }).toMatchObject({ status: "committed" });
    expect((await sm.request("sessions.commit", { id: b.sessionId as string })) as { status: string }).toMatchObject({ status: "committed" });
    expect(await Promise.all(cues.map((c) => field(c, "number")))).toEqual([1, 2, 3]);
  });

  it("resolve-all settles a handful of real conflicts in one choice (not only above 100)", async () => {
    for (const c of cues) await sm.request("entity.set", { id: c, field: "number", value: 0 });
    const run = (await sm.request("scripts.run", { script: "renumber_cues", args: { scene_id: scene } })) as RunSummary;
    for (const [i, c] of cues.entries()) await sm.request("entity.set", { id: c, field: "number", value: 40 + i });
    const first = (await sm.request("sessions.commit", { id: run.sessionId as string })) as { status: string; conflicts: unknown[]; bulk: boolean };
    expect(first).toMatchObject({ status: "conflicts", bulk: false });
    expect(first.conflicts).toHaveLength(3);
    const r = await op("session", "resolve-all", run.sessionId as string, "script");
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain("3 conflict(s): keep script");
    expect((await sm.request("sessions.commit", { id: run.sessionId as string })) as { status: string }).toMatchObject({ status: "committed" });
    expect(await Promise.all(cues.map((c) => field(c, "number")))).toEqual([1, 2, 3]);
  });
});

describe("structural operations conflict too, through the socket and the CLI", () => {
  it("deleting a cue someone edited meanwhile is a conflict in words; keeping canonical's leaves the cue", async () => {
    const cue = await newCue(99, 99);
    const run = (await sm.request("scripts.run", { script: "drop_cue", args: { cue } })) as RunSummary;
    expect(run).toMatchObject({ status: "ok", sessionStatus: "open" });
    await sm.request("entity.set", { id: cue, field: "label", value: "edited meanwhile" });
    const first = (await sm.request("sessions.commit", { id: run.sessionId as string })) as { status: string; conflicts: { id: string; kind: string; field: string; scriptValue: unknown; canonicalValue: unknown }[] };
    expect(first.status).toBe("conflicts");
    expect(first.conflicts).toEqual([expect.objectContaining({ kind: "structure", field: "@entity", scriptValue: "delete the entity", canonicalValue: 'canonical changed it: lighting.cue.label null → "edited meanwhile"' })]);
    const shown = await op("session", "conflicts", run.sessionId as string);
    expect(shown.code, shown.stderr).toBe(0);
    expect(shown.stdout).toContain('the script would delete the entity; canonical changed it: lighting.cue.label null → "edited meanwhile"');
    const r = await op("session", "resolve", run.sessionId as string, first.conflicts[0].id, "canonical");
    expect(r.code, r.stderr).toBe(0);
    expect((await sm.request("sessions.commit", { id: run.sessionId as string })) as { status: string }).toMatchObject({ status: "committed" });
    expect(await field(cue, "label")).toBe("edited meanwhile");
  });
});

describe("the renumber trigger with supersede = true: two quick reorders leave one session and a correctly numbered cue list", () => {
  it("the second firing replaces the first one's session; committing it numbers the cues in their new order", async () => {
    // Let every earlier firing settle and clear what it left, so the counts below are this test's.
    await new Promise((r) => setTimeout(r, 500));
    for (const s of await openSessions()) await sm.request("sessions.discard", { id: s.id });
    // Two reorders in quick succession: cue 3 to the front, then cue 1 to the back.
    await sm.request("entity.set", { id: cues[2], field: "order_index", value: 0.5 });
    await sm.request("entity.set", { id: cues[0], field: "order_index", value: 9 });
    const open = await eventually(async () => {
      await new Promise((r) => setTimeout(r, 300));
      const list = (await openSessions()).filter((s) => s.script === "renumber_cues");
      const { runs } = (await sm.request("runs.list", { script: "renumber_cues" })) as { runs: { status: string }[] };
      return list.length >= 1 && !runs.some((x) => x.status === "running") ? list : undefined;
    }, "the renumber runs to settle");
    expect(open).toHaveLength(1);
    const commit = (await sm.request("sessions.commit", { id: open[0].id })) as { status: string; conflicts?: unknown[] };
    expect(commit).toMatchObject({ status: "committed" });
    // Order now: cue 3 (0.5), cue 2 (2), cue 1 (9).
    expect(await Promise.all([cues[2], cues[1], cues[0]].map((c) => field(c, "number")))).toEqual([1, 2, 3]);
    expect(events.some((e) => e.type === "session.discarded")).toBe(true);
  });
});
