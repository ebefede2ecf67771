import fs from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CliKit } from "./fixtures/daemon-cli.ts";
import type { DaemonProcess } from "./fixtures/daemon-cli.ts";

const kit = new CliKit();
let show = "";
let daemon: DaemonProcess;
let scene = "";
const cues: string[] = [];

const ASK_HOUSE = `
function main()
  local ok = core.await(ui.dialog.confirm("Take the house to half?"))
  log.info("answer: " .. tostring(ok))
  if ok then ui.toast("house at half") end
end
`;

/** `openprod <args> --dir <show>`; with json, stdout parsed. */
const op = (...args: string[]) => kit.run([...args, "--dir", show]);

async function eventually<T>(f: () => Promise<T | undefined>, what: string, ms = 15_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await f();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

beforeAll(async () => {
  await kit.build();
  show = await kit.newShow();
  fs.writeFileSync(path.join(show, "workspace", "scripts", "ask_house.lua"), ASK_HOUSE);
  fs.appendFileSync(
    path.join(show, "openprod.toml"),
    `\n[script.ask_house]\nexecution_mode = "autoCommit"\non_error = "abort"\ncapabilities = ["ui.dialog", "ui.notify"]\n`,
  );
  daemon = await kit.daemon(show, ["--dialog-timeout", "1s"]);
  scene = (await op("create", "scenes", "name=Act 1", "--json")).json<{ id: string }>().id;
  // Cue order (order_index) differs from creation order, so the renumbering shows.
  for (const order of [3, 1, 2]) {
    const id = (await op("create", "lighting_cues", "number=0", `order_index=${order}`, `scene=${scene}`, "status=standby", "--json")).json<{ id: string }>().id;
    const l = await op("link", "scene", id, scene);
    expect(l.code, l.stdout + l.stderr + daemon.stderr).toBe(0);
    cues.push(id);
  }
}, 90_000);

afterAll(async () => {
  await daemon?.stop();
  await kit.cleanup();
});

describe("a technician renumbers a scene's cues, reviews the session and commits it", () => {
  let sessionId = "";
  let runId = "";

  it("run prints the run id, outcome and the session left for review", async () => {
    const r = await op("run", "renumber_cues", "--arg", `scene_id=${scene}`, "--json");
    expect(r.code, r.stderr).toBe(0);
    const doc = r.json<{ run_id: string; status: string; session_id: string; ops: number }>();
    expect(doc).toMatchObject({ status: "ok", ops: 3 });
    expect(doc.session_id).toMatch(/^s-run-/);
    sessionId = doc.session_id;
    runId = doc.run_id;
  });

  it("the session is listed and shows entity, field, old → new; canonical is untouched until commit", async () => {
    const list = (await op("sessions", "--json")).json<{ sessions: { id: string; ops: number; script: string }[] }>();
    expect(list.sessions).toContainEqual(expect.objectContaining({ id: sessionId, ops: 3, script: "renumber_cues" }));
    const shown = await op("session", "show", sessionId);
    expect(shown.code).toBe(0);
    expect(shown.stdout).toContain(`(…${cues[1].slice(-6)}): number 0 → 1`);
    expect(shown.stdout).toContain(`(…${cues[2].slice(-6)}): number 0 → 2`);
    expect(shown.stdout).toContain(`(…${cues[0].slice(-6)}): number 0 → 3`);
    expect((await op("get", cues[0], "number")).stdout.trim()).toBe("0");
  });

  it("commit writes the new numbers and the query shows them", async () => {
    const c = await op("session", "commit", sessionId);
    expect(c.code, c.stderr).toBe(0);
    expect(c.stdout).toMatch(/^committed session s-run-\S+: bundle [0-9a-f]{12} \(3 op\(s\)\)/);
    const q = await op("query", "table == 'lighting_cues' AND scene == ? ORDER BY order_index", scene, "--json");
    const numbers = q.json<{ entities: { fields: Record<string, unknown> }[] }>().entities.map((e) => e.fields["lighting.cue.number"]);
    expect(numbers).toEqual([1, 2, 3]);
    expect((await op("sessions", "--json")).json<{ sessions: unknown[] }>().sessions).toEqual([]);
  });

  it("the run is listed and its record says what it was given and did", async () => {
    const runs = (await op("runs", "--script", "renumber_cues", "--json")).json<{ runs: { runId: string; status: string }[] }>().runs;
    expect(runs).toContainEqual(expect.objectContaining({ runId, status: "ok" }));
    const rec = (await op("run-record", runId, "--json")).json<{ record: { args: unknown; ops: number; hash: string; log: unknown[] } }>().record;
    expect(rec).toMatchObject({ args: { scene_id: scene }, ops: 3 });
    expect(rec.hash).toMatch(/^[0-9a-f]{64}$/);
    const text = await op("run-record", runId);
    expect(text.stdout).toContain(`run ${runId} of renumber_cues`);
  });

  it("replaying the run re-does it at its recorded snapshot and finds the same ops, committing nothing", async () => {
    const before = (await op("history", "--limit", "1", "--json")).stdout;
    const r = (await op("replay", runId, "--json")).json<{ same: boolean; replayedOps: number; recordedOps: number }>();
    expect(r).toMatchObject({ same: true, replayedOps: 3, recordedOps: 3 });
    expect((await op("replay", runId)).stdout).toContain(`replay of ${runId} matched: the same 3 operation(s) as the recorded run`);
    expect((await op("history", "--limit", "1", "--json")).stdout).toBe(before);
  });

  it("without --json the run streams progress and toasts, and a discarded session leaves canonical as it was", async () => {
    await op("set", cues[1], "order_index", "9");
    const r = await op("run", "renumber_cues", "--arg", `scene_id=${scene}`);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain("progress: Renumbering cues started (3)");
    // Not a terminal: each update on its own line as it comes, not only start and end.
    expect(r.stdout).toMatch(/progress: (Renumbering cues )?2\/3\n/);
    expect(r.stdout).toContain("toast: 3 cues renumbered");
    const id = /session (s-run-\S+) is open for review/.exec(r.stdout)?.[1];
    expect(id, r.stdout).toBeDefined();
    const d = await op("session", "discard", id as string);
    expect(d.stdout.trim()).toBe(`discarded session ${id}`);
    expect((await op("get", cues[1], "number")).stdout.trim()).toBe("1");
  });

  it("--commit commits the session when the run ends without conflicts", async () => {
    const r = await op("run", "renumber_cues", "--args", JSON.stringify({ scene_id: scene }), "--commit", "--json");
    expect(r.code, r.stdout).toBe(0);
    expect(r.json()).toMatchObject({ status: "ok", commit: { status: "committed", ops: 3 } });
    // cue 1 moved to the end (order_index 9): it is now number 3.
    expect((await op("get", cues[1], "number")).stdout.trim()).toBe("3");
  });
});

describe("a trigger runs its script when a cue starts, and its traces say so", () => {
  it("cue status → running runs log_cue_start; traces cue_started shows the firing and its run", async () => {
    const triggers = (await op("triggers", "--json")).json<{ triggers: { name: string; status: string }[] }>().triggers;
    expect(triggers).toContainEqual(expect.objectContaining({ name: "cue_started", status: "active" }));
    expect((await op("set", cues[0], "status", "running")).code).toBe(0);
    const trace = await eventually(async () => {
      const t = (await op("traces", "cue_started", "--json")).json<{ traces: { entity: string; status: string; runId: string | null }[] }>().traces;
      return t.find((x) => x.entity === cues[0] && x.status === "ok");
    }, "the cue_started trace");
    expect(trace.runId).toMatch(/^run-/);
    const fired = await op("get", cues[0], "fired_at");
    expect(fired.stdout.trim()).not.toBe("null");
    const text = await op("traces", "cue_started");
    expect(text.stdout).toContain(`(…${cues[0].slice(-6)}) status: standby → running  ok  ${trace.runId}`);
    const rec = (await op("run-record", trace.runId as string, "--json")).json<{ record: { log: { message: string }[]; user: string } }>().record;
    expect(rec.user).toBe("trigger:cue_started");
    // After the last renumbering cue 0 (order_index 3) is the second of the scene.
    expect(rec.log.map((l) => l.message)).toContain("Cue 2 started");
  });
});

describe("a script's dialog is answered from the command line, or times out", () => {
  it("--answer yes answers the confirm dialog and the script goes on", async () => {
    const r = await op("run", "ask_house", "--answer", "yes", "--json");
    expect(r.code, r.stdout).toBe(0);
    const runId = r.json<{ run_id: string; status: string }>().run_id;
    const rec = (await op("run-record", runId, "--json")).json<{ record: { inputs: { kind: string; value: unknown }[]; log: { message: string }[] } }>().record;
    expect(rec.inputs).toContainEqual({ kind: "dialog.confirm", value: true });
    expect(rec.log.map((l) => l.message)).toContain("answer: true");
  });

  it("with --json and no --answer nobody answers: the script gets a Timeout error, the command exits 1", async () => {
    const started = Date.now();
    const r = await op("run", "ask_house", "--json");
    expect(r.code).toBe(1);
    expect(r.json<{ status: string; error: { type: string; message: string } }>()).toMatchObject({ status: "error", error: { type: "Timeout" } });
    expect(r.json<{ error: { message: string } }>().error.message).toContain("no client answered within 1000 ms");
    expect(Date.now() - started).toBeLessThan(10_000);
  });

  it("without a terminal the text output says the dialog was not answered and timed out", async () => {
    const r = await op("run", "ask_house");
    expect(r.code).toBe(1);
    expect(r.stdout).toContain("dialog: Take the house to half? [y/n]: not answered here (no terminal; use --answer)");
    expect(r.stdout).toMatch(/dialog dlg-\d+ timed out: the script gets an error/);
  });
});

describe("bad input to the script commands is refused with a message that says what to do", () => {
  const cases: [string[], number, RegExp][] = [
    [["run", "no_such_script", "--json"], 1, /EntityNotFound.*no_such_script/],
    [["run", "--json"], 2, /run takes 1 argument/],
    [["run", "renumber_cues", "--arg", "scene_id", "--json"], 2, /--arg takes key=value/],
    [["run", "renumber_cues", "--args", "[1]", "--json"], 2, /--args must be a JSON object/],
    [["session", "show", "s-nope", "--json"], 1, /EntityNotFound.*no open session s-nope/],
    [["session", "frob", "s-nope", "--json"], 2, /unknown session command "frob"/],
    [["session", "commit", "--json"], 2, /session takes 2 to 4 argument/],
    [["session", "commit", "s-nope", "--json"], 1, /InvalidOperation.*no open session s-nope/],
    [["session", "discard", "s-nope", "--json"], 1, /no open session s-nope/],
    [["session", "resolve", "s-nope", "c1", "maybe", "--json"], 2, /"script" or "canonical"/],
    [["run-record", "run-nope", "--json"], 1, /EntityNotFound.*no run run-nope/],
    [["replay", "run-nope", "--json"], 1, /EntityNotFound.*no run run-nope/],
    [["runs", "--limit", "0", "--json"], 2, /--limit must be a positive whole number/],
    [["traces", "nope", "--json"], 1, /EntityNotFound.*no trigger "nope".*cue_started/],
    [["traces", "--json"], 2, /traces takes 1 argument/],
    [["start", "renumber_cues", "--json"], 1, /not a background script/],
    [["start", "renumber_cues", "--args", "{", "--json"], 2, /--args must be a JSON object/],
    [["stop", "no_such_script", "--json"], 1, /no_such_script/],
    [["link", "no_such_edge", cues[0] ?? "x", cues[1] ?? "y", "--json"], 1, /no_such_edge/],
  ];
  it.each(cases)("openprod %j exits %i", async (args, code, message) => {
    const r = await op(...args);
    expect(r.code, r.stdout + r.stderr).toBe(code);
    const doc = r.json<{ error: { type: string; message: string } }>();
    expect(`${doc.error.type}: ${doc.error.message}`).toMatch(message);
  });

  it("script commands without a daemon exit 3 and say how to start one", async () => {
    const idle = await kit.newShow();
    // scripts and triggers read the configuration instead (tests/cli-everyday.test.ts).
    for (const args of [["run", "renumber_cues"], ["sessions"], ["ps"]]) {
      const r = await kit.run([...args, "--dir", idle, "--json"]);
      expect(r.code).toBe(3);
      expect(r.json<{ error: { message: string } }>().error.message).toContain("openprod daemon --dir");
    }
  });

  it("every script command explains itself with --help and an example", async () => {
    for (const cmd of ["run", "scripts", "sessions", "session", "runs", "run-record", "replay", "triggers", "traces", "start", "stop", "ps", "link"]) {
      const r = await kit.run([cmd, "--help"]);
      expect(r.code).toBe(0);
      expect(r.stdout).toMatch(/^usage: openprod /);
      expect(r.stdout).toMatch(/examples:\n {2}openprod /);
    }
  });
});
