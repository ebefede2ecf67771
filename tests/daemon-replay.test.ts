// Replay from what was recorded: a real daemon replays runs that used HTTP, OSC, the clock and a
// race from their run records, with the live servers gone, and says in words what it found.
import dgram from "node:dgram";
import fs from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connect } from "../protocol/index.ts";
import type { Client, ReplayResult, RunRecord, RunSummary } from "../protocol/index.ts";
import { CliKit } from "./fixtures/daemon-cli.ts";
import type { DaemonProcess } from "./fixtures/daemon-cli.ts";

const kit = new CliKit();
let show = "";
let daemon: DaemonProcess;
let sm: Client;
let oscPort = 0;
let api: http.Server;
let apiUrl = "";
let cue = "";

const SCRIPTS: Record<string, string> = {
  // HTTP, an OSC message, a race between a request and a timeout, and the clock.
  cue_from_outside: `
function main()
  local res = core.await(http.get(args.url .. "/cue"))
  local data = json.decode(res.body)
  local sock = core.await(osc.listen(args.port, { host = "127.0.0.1" }))
  local msg = sock:recv(10000)
  core.set_field(args.cue, "label", data.label .. " / " .. msg.path .. " " .. tostring(msg.args[1]))
  local r = core.await(core.race(http.get(args.url .. "/slow"), core.sleep(30000)))
  core.set_field(args.cue, "status", r.timeout and "timeout" or ("api " .. r.value.body))
  core.set_field(args.cue, "fired_at", context.hlc_time())
  core.await(osc.send("127.0.0.1", args.port, "/ack", { 1 }))
end
`,
  // Reads canonical as it is now (isolation = "live"): a replay after canonical moved differs.
  live_number: `
function main()
  local t = context.hlc_time()
  core.set_field(args.cue, "label", "number " .. tostring(core.get_field(args.cue, "number")))
end
`,
  // Polls until stopped: a replay of a cancelled run asks for one answer more than was recorded.
  poll: `
function main()
  while not context.cancelled() do
    local r = core.await(http.get(args.url .. "/cue"))
    if r then core.set_field(args.cue, "label", r.body) end
    core.await(core.sleep(100))
  end
end
`,
};

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

function freeUdpPort(): Promise<number> {
  return new Promise((resolve) => {
    const s = dgram.createSocket("udp4");
    s.bind(0, "127.0.0.1", () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

function send(port: number, path: string, value: number): Promise<void> {
  // A minimal OSC message: address, ",i", one int32.
  const pad = (b: Buffer): Buffer => Buffer.concat([b, Buffer.alloc(4 - (b.length % 4))]);
  const arg = Buffer.alloc(4);
  arg.writeInt32BE(value);
  const packet = Buffer.concat([pad(Buffer.from(path)), pad(Buffer.from(",i")), arg]);
  return new Promise((resolve) => {
    const s = dgram.createSocket("udp4");
    s.send(packet, port, "127.0.0.1", () => s.close(() => resolve()));
  });
}

beforeAll(async () => {
  await kit.build();
  oscPort = await freeUdpPort();
  api = http.createServer((req, res) => {
    if (req.url === "/slow") {
      setTimeout(() => res.end("late"), 100).unref();
      return;
    }
    res.setHeader("content-type", "application/json");
    res.end(JSON.stringify({ label: "from the API" }));
  });
  await new Promise<void>((r) => api.listen(0, "127.0.0.1", () => r()));
  apiUrl = `http://127.0.0.1:${(api.address() as AddressInfo).port}`;

  show = await kit.newShow();
  for (const [name, src] of Object.entries(SCRIPTS)) fs.writeFileSync(path.join(show, "workspace", "scripts", `${name}.lua`), src);
  const writes = '"data.write:lighting.cue.label", "data.write:lighting.cue.status", "data.write:lighting.cue.fired_at"';
  fs.appendFileSync(
    path.join(show, "openprod.toml"),
    `
[script.cue_from_outside]
capabilities = ["net.http.client", "net.osc:${oscPort}", ${writes}]

[script.live_number]
isolation = "live"
capabilities = [${writes}]

[script.poll]
on_error = "abort"
capabilities = ["net.http.client", ${writes}]
`,
  );
  // A module script, so its bundles carry the module's name and version.
  const manifest = path.join(show, "modules", "lighting", "module.toml");
  fs.appendFileSync(manifest, '\n[script.stamp]\nexecution_mode = "autoCommit"\n');
  fs.writeFileSync(path.join(show, "modules", "lighting", "scripts", "stamp.lua"), 'function main() core.set_field(args.cue, "fired_at", context.hlc_time()) end\n');
  daemon = await kit.daemon(show, ["--no-network"]);
  sm = await connect(show, { name: "stage-manager" });
  const r = (await sm.request("apply", { ops: [{ op: "CreateEntity", tables: ["lighting_cues"], fields: { number: 7, status: "standby" } }] })) as { results: { id: string }[] };
  cue = r.results[0].id;
}, 90_000);

afterAll(async () => {
  sm?.close();
  api?.close();
  await daemon?.stop();
  await kit.cleanup();
});

const record = async (runId: string): Promise<RunRecord> => ((await sm.request("runs.get", { runId })) as { record: RunRecord }).record;

describe("a replay of a run that used HTTP and OSC matches from its record alone", () => {
  let runId = "";

  it("the live run reads the API and an OSC message, races a request against a timeout, and records every answer", async () => {
    ({ runId } = (await sm.request("scripts.run", { script: "cue_from_outside", args: { url: apiUrl, port: oscPort, cue }, wait: false })) as { runId: string });
    // The listener opens after the HTTP answer: keep sending until the run got one.
    let got: RunSummary | undefined;
    const waiting = sm.request("runs.wait", { runId }).then((s) => (got = s as RunSummary));
    while (got === undefined) {
      await send(oscPort, "/cue/go", 42);
      await Promise.race([waiting, new Promise((r) => setTimeout(r, 100))]);
    }
    expect(got).toMatchObject({ status: "ok", ops: 3, sessionStatus: "open" });
    const rec = await record(runId);
    const kinds = (rec.tape?.entries ?? []).map((e) => e.b);
    expect(kinds).toEqual(expect.arrayContaining(["http.get", "osc.listen", "osc.__recv", "core.race", "rt.context.hlc_time", "osc.send"]));
    expect(rec.tape?.entries.find((e) => e.b === "core.race")?.v).toBe(1);
    expect(rec.inputs.map((i) => i.kind)).toEqual(expect.arrayContaining(["http.response", "osc.message"]));
  });

  it("every bundle of the run names its script hash, run and the digest of the external inputs it came from", async () => {
    const { sessions } = (await sm.request("sessions.list", {})) as { sessions: { id: string; runId: string }[] };
    const s = sessions.find((x) => x.runId === runId);
    expect((await sm.request("sessions.commit", { id: s?.id as string })) as { status: string }).toMatchObject({ status: "committed" });
    const { bundles } = (await sm.request("history", { entity: cue, limit: 1 })) as { bundles: { meta: { origin?: Record<string, unknown> } }[] };
    const rec = await record(runId);
    expect(bundles[0].meta.origin).toMatchObject({ script: "cue_from_outside", runId, hash: rec.hash, inputs: { count: rec.inputs.length, digest: expect.stringMatching(/^[0-9a-f]{64}$/) } });
  });

  it("with the API server closed and the OSC port taken by someone else, the replay still matches: it did no live I/O", async () => {
    await new Promise<void>((r) => api.close(() => r()));
    const squatter = dgram.createSocket("udp4");
    await new Promise<void>((r) => squatter.bind(oscPort, "127.0.0.1", () => r()));
    try {
      const r = (await sm.request("runs.replay", { runId })) as ReplayResult;
      expect(r).toMatchObject({ same: true, status: "ok", replayedOps: 3 });
      expect(r.inputsRanOut).toBeUndefined();
      const cli = await op("replay", runId);
      expect(cli.code, cli.stderr).toBe(0);
      expect(cli.stdout).toContain(`replay of ${runId} matched: the same 3 operation(s) as the recorded run`);
    } finally {
      squatter.close();
    }
  });
});

describe("a replay says in words where it parted from the recorded run", () => {
  it("a run that read live canonical differs after canonical moved: the first differing operation and the input before it", async () => {
    const run = (await sm.request("scripts.run", { script: "live_number", args: { cue } })) as RunSummary;
    expect(run.status).toBe("ok");
    await sm.request("entity.set", { id: cue, field: "number", value: 8 });
    const r = (await sm.request("runs.replay", { runId: run.runId })) as ReplayResult;
    expect(r.same).toBe(false);
    expect(r.firstDifference).toMatchObject({ index: 0, recorded: { op: "SetField", value: "number 7.0" }, replayed: { op: "SetField", value: "number 8.0" } });
    expect(r.firstDifference?.precedingInput).toMatch(/^input #1: rt\.context\.hlc_time → /);
    const cli = await op("replay", run.runId);
    expect(cli.stdout).toContain(`replay of ${run.runId} did NOT match`);
    expect(cli.stdout).toContain('first difference at operation #1: recorded {"op":"SetField"');
    expect(cli.stdout).toContain("the input consumed just before it: input #1: rt.context.hlc_time");
  });

  it("a replay that needs more answers than were recorded says where the recording ran out", async () => {
    const server = http.createServer((_req, res) => res.end("polled"));
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const { runId } = (await sm.request("scripts.run", { script: "poll", args: { url, cue }, wait: false })) as { runId: string };
    await eventually(async () => {
      const { runs } = (await sm.request("runs.list", { script: "poll" })) as { runs: { runId: string; status: string }[] };
      return runs.some((x) => x.runId === runId) ? true : undefined;
    }, "the poll run");
    await new Promise((r) => setTimeout(r, 400));
    await sm.request("runs.cancel", { target: runId, keepOverlay: true });
    await new Promise<void>((r) => server.close(() => r()));
    const rec = await record(runId);
    const answered = (rec.tape?.entries ?? []).filter((e) => e.b === "http.get" && !e.pending).length;
    expect(answered).toBeGreaterThan(0);
    const r = (await sm.request("runs.replay", { runId })) as ReplayResult;
    expect(r.inputsRanOut).toMatchObject({ binding: "http.get", call: answered + 1, recorded: answered });
    expect(r.summary).toContain(`the recorded inputs ran out at http.get call #${answered + 1} (the run recorded ${answered} answer(s) of it): the replay did no live I/O there`);
  });

  it("the spec's log_cue_start, run by its trigger, replays to the same fired_at: its hlc_time came from the record", async () => {
    await sm.request("entity.set", { id: cue, field: "status", value: "running" });
    const done = await eventually(async () => {
      const { runs } = (await sm.request("runs.list", { script: "log_cue_start" })) as { runs: { runId: string; status: string }[] };
      return runs.find((x) => x.status === "ok");
    }, "the trigger's run");
    const rec = await record(done.runId);
    expect(rec.tape?.entries.map((e) => e.b)).toEqual(["rt.context.hlc_time"]);
    const r = (await sm.request("runs.replay", { runId: done.runId })) as ReplayResult;
    expect(r, r.summary).toMatchObject({ same: true, replayedOps: 1 });
  });

  it("a module script's bundles carry the module's name and version", async () => {
    const run = (await sm.request("scripts.run", { script: "lighting/stamp", args: { cue } })) as RunSummary;
    expect(run.status).toBe("ok");
    const { bundles } = (await sm.request("history", { entity: cue, limit: 1 })) as { bundles: { meta: { origin?: Record<string, unknown> } }[] };
    expect(bundles[0].meta.origin).toMatchObject({ script: "lighting/stamp", runId: run.runId, module: { name: "lighting", version: "1.2.0" }, inputs: { tape: 1 } });
  });
});
