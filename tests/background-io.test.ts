import dgram from "node:dgram";
import { encode, Message } from "node-osc";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { InputLog } from "../daemon/scripts/runtime/index.ts";
import { freeTcpPort, freeUdpPort, until } from "./fixtures/io-kit/ports.ts";
import { bgKit } from "./fixtures/background-kit/kit.ts";
import type { BgKit } from "./fixtures/background-kit/kit.ts";

let kit: BgKit;
const sender = dgram.createSocket("udp4");
beforeAll(async () => {
  kit = await bgKit();
});
afterAll(async () => {
  sender.close();
  await kit.close();
});

const send = (port: number, msg: Message): Promise<void> =>
  new Promise((resolve, reject) => sender.send(encode(msg), port, "127.0.0.1", (e) => (e ? reject(e) : resolve())));

const SHOW_MODULES = `log.info(type(osc) .. " " .. type(midi) .. " " .. type(http))`;

describe("a script gets osc / midi / http only when its capabilities allow them", () => {
  it("has none of them without a capability", async () => {
    kit.script("plain", SHOW_MODULES);
    expect((await kit.runtime.run("plain").done).status).toBe("ok");
    expect(kit.logs("plain")).toEqual(["nil nil nil"]);
  });

  it("has each one its capability grants", async () => {
    kit.script("all_io", SHOW_MODULES, { capabilities: ["net.osc:9000", "net.midi", "net.http.client"] });
    kit.script("osc_only", SHOW_MODULES, { capabilities: ["net.osc:8000-8010", "ui.notify"] });
    kit.script("server_only", SHOW_MODULES, { capabilities: ["net.http.server:3000"] });
    for (const id of ["all_io", "osc_only", "server_only"]) await kit.runtime.run(id).done;
    expect([kit.logs("all_io"), kit.logs("osc_only"), kit.logs("server_only")]).toEqual([["table table table"], ["table nil nil"], ["nil nil table"]]);
  });

  it("a port outside the grant is refused naming the capability", async () => {
    kit.script("wrong_port", `osc.listen(9999)`, { capabilities: ["net.osc:8000-8010"] });
    const r = await kit.runtime.run("wrong_port").done;
    expect(r.error).toMatchObject({ type: "PermissionDenied" });
    expect(r.error?.message).toContain('"net.osc:9999"');
  });
});

describe("what a script receives is written to its run record, and its sockets close when it ends", () => {
  it("records OSC messages and frees the port", async () => {
    const port = await freeUdpPort();
    kit.script("osc_rec", `
      local s = osc.listen(args.port, { host = "127.0.0.1" })
      log.info("listening")
      for i = 1, 3 do
        local m = s:recv(5000)
        log.info(m.path .. " " .. tostring(m.args[1]))
      end`, { capabilities: [`net.osc:${port}`] });
    const run = kit.runtime.run("osc_rec", { args: { port } });
    await until(() => kit.logs("osc_rec").includes("listening"), 5000, "listening");
    for (const n of [1, 2, 3]) await send(port, new Message("/cue/fire", n));
    const r = await run.done;
    expect(r.status).toBe("ok");
    const rec = await kit.runtime.runRecord(run.runId);
    expect(rec?.inputs.map((i) => [i.kind, (i.value as { path: string; args: unknown[] }).path, (i.value as { args: unknown[] }).args])).toEqual([
      ["osc.message", "/cue/fire", [1]],
      ["osc.message", "/cue/fire", [2]],
      ["osc.message", "/cue/fire", [3]],
    ]);
    // The run is over: the port is free again.
    const again = dgram.createSocket("udp4");
    await new Promise<void>((resolve, reject) => {
      again.once("error", reject);
      again.bind(port, "127.0.0.1", () => resolve());
    });
    again.close();
  });

  it("records MIDI events from the runtime's MIDI system", async () => {
    kit.script("midi_rec", `
      local input = midi.open_input("Desk")
      log.info("open")
      local e = input:recv(5000)
      log.info(e.type .. " " .. e.cc .. " " .. e.value)`, { capabilities: ["net.midi"] });
    const run = kit.runtime.run("midi_rec");
    await until(() => kit.logs("midi_rec").includes("open"), 5000, "open");
    kit.midi.play("Desk", [0xb0, 20, 64]);
    expect((await run.done).status).toBe("ok");
    expect(kit.logs("midi_rec")).toEqual(["open", "control_change 20 64"]);
    expect((await kit.runtime.runRecord(run.runId))?.inputs).toEqual([{ kind: "midi.message", value: expect.objectContaining({ port: "Desk", type: "control_change", cc: 20, value: 64 }) }]);
    expect(kit.midi.openCount("Desk")).toBe(0);
  });

  it("an HTTP server a background run opened is closed when it stops", async () => {
    const port = await freeTcpPort();
    kit.script("http_bg", `
      local server = http.serve(args.port, { host = "127.0.0.1" })
      log.info("serving")
      while not context.cancelled() do
        local req = server:accept(50)
        if req then req:respond(200, "OK " .. req.path) end
      end`, { mode: "background", capabilities: [`net.http.server:${port}`] });
    await kit.runtime.startBackground("http_bg", { args: { port } });
    await until(() => kit.logs("http_bg").includes("serving"), 5000, "serving");
    const res = await fetch(`http://127.0.0.1:${port}/trigger`);
    expect(await res.text()).toBe("OK /trigger");
    const st = await kit.runtime.stopBackground("http_bg", "user");
    await expect(fetch(`http://127.0.0.1:${port}/trigger`)).rejects.toThrow();
    const rec = await kit.runtime.runRecord(st.runId as string);
    expect(rec?.inputs).toEqual([{ kind: "http.request", value: expect.objectContaining({ path: "/trigger", method: "GET" }) }]);
  });
});

describe("a long-running script's input record stays bounded", () => {
  it("keeps the first inputs whole, the next as hashes, and counts all of them", () => {
    const log = new InputLog(2, 3);
    for (let i = 0; i < 10; i++) log.push({ kind: i % 2 ? "osc.message" : "midi.message", value: { i } });
    const rec = log.toRecord();
    expect(rec).toHaveLength(2 + 3 + 1);
    expect(rec.slice(0, 2)).toEqual([{ kind: "midi.message", value: { i: 0 } }, { kind: "osc.message", value: { i: 1 } }]);
    expect(rec[2].value).toEqual({ hash: expect.stringMatching(/^[0-9a-f]{64}$/) });
    expect(rec[5]).toEqual({
      kind: "inputs.summary",
      value: { total: 10, full: 2, hashed: 3, byKind: { "midi.message": 5, "osc.message": 5 }, digest: expect.stringMatching(/^[0-9a-f]{64}$/) },
    });
    expect(log.size).toBe(10);
  });
});
