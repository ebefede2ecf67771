import { afterAll, describe, expect, it } from "vitest";
import dgram from "node:dgram";
import { Buffer } from "node:buffer";
import { Bundle, Message, decode, encode } from "node-osc";
import { ioKit } from "./fixtures/io-kit/io-run.ts";
import { freeUdpPort, until } from "./fixtures/io-kit/ports.ts";

const kit = ioKit();
const sender = dgram.createSocket("udp4");
afterAll(async () => {
  sender.close();
  await kit.close();
});

const sendTo = (port: number, buf: Buffer): Promise<void> =>
  new Promise((resolve, reject) => sender.send(buf, port, "127.0.0.1", (e) => (e ? reject(e) : resolve())));

const grant = (port: number): string[] => [`net.osc:${port}`];
const isReady = (logs: unknown[][]): boolean => logs.some((l) => l[0] === "ready");

describe("a script listening on an OSC port receives what a console sends", () => {
  it("delivers every argument type with its type intact", async () => {
    const port = await freeUdpPort();
    const run = kit.start(`
      local s = core.await(osc.listen(${port}, { host = "127.0.0.1" }))
      log.info("ready")
      local m = core.await(s:recv())
      local a = m.args
      log.info(m.path, m.types, a[1], math.type(a[1]), a[2], math.type(a[2]), a[3], a[4], a[5], a[6] == nil, #a[7], string.byte(a[7], 1, -1))
      log.info(m.address, m.port == nil, m.time_tag == nil, math.type(a[8]), a[8])`, { capabilities: grant(port) });
    await until(() => isReady(run.logs), 5000, "listener");
    const msg = new Message("/cue/fire", 42, { type: "float", value: 2 }, "go", true, false, { type: "N", value: null }, { type: "blob", value: Buffer.from([0, 255, 10, 200]) }, 1.5);
    await sendTo(port, encode(msg));
    const o = await run.done;
    expect(o.error).toBeUndefined();
    expect(run.logs[1]).toEqual(["/cue/fire", "ifsTFNbf", 42, "integer", 2, "float", "go", true, false, true, 4, 0, 255, 10, 200]);
    expect(run.logs[2]).toEqual(["127.0.0.1", false, true, "float", 1.5]);
    expect(run.records).toEqual([{ kind: "osc.message", data: expect.objectContaining({ path: "/cue/fire", types: "ifsTFNbf", address: "127.0.0.1", time_tag: null }) }]);
  });

  it("delivers a bundle as its messages, each with the bundle's time tag, in order", async () => {
    const port = await freeUdpPort();
    const run = kit.start(`
      local s = core.await(osc.listen(${port}, { host = "127.0.0.1" }))
      log.info("ready")
      for i = 1, 3 do
        local m = core.await(s:recv())
        log.info(m.path, m.args[1], m.time_tag)
      end`, { capabilities: grant(port) });
    await until(() => isReady(run.logs), 5000, "listener");
    const inner = new Bundle(2_000_000_000, ["/c", 3]);
    const bundle = new Bundle(1_900_000_000.5, ["/a", 1], ["/b", 2]);
    bundle.append(inner);
    await sendTo(port, encode(bundle));
    const o = await run.done;
    expect(o.error).toBeUndefined();
    expect(run.logs.slice(1)).toEqual([["/a", 1, 1_900_000_000.5], ["/b", 2, 1_900_000_000.5], ["/c", 3, 2_000_000_000]]);
  });

  it("loses nothing that arrives between two recv() calls", async () => {
    const port = await freeUdpPort();
    const run = kit.start(`
      local s = core.await(osc.listen(${port}, { host = "127.0.0.1" }))
      log.info("ready")
      core.await(core.sleep(300))
      local sum = 0
      for i = 1, 500 do sum = sum + core.await(s:recv()).args[1] end
      log.info(sum)`, { capabilities: grant(port) });
    await until(() => isReady(run.logs), 5000, "listener");
    for (let i = 1; i <= 500; i++) await sendTo(port, encode(new Message("/n", i)));
    const o = await run.done;
    expect(o.error).toBeUndefined();
    expect(run.logs[1]).toEqual([(500 * 501) / 2]);
    expect(run.records).toHaveLength(500);
  });

  it("drops a malformed packet with a warning and keeps listening", async () => {
    const port = await freeUdpPort();
    const run = kit.start(`
      local s = core.await(osc.listen(${port}, { host = "127.0.0.1" }))
      log.info("ready")
      local m = core.await(s:recv())
      log.info(m.path, m.args[1])`, { capabilities: grant(port) });
    await until(() => isReady(run.logs), 5000, "listener");
    await sendTo(port, Buffer.from("garbage that is not OSC"));
    await sendTo(port, Buffer.from("/x\0\0,i\0\0\0\0", "latin1")); // int argument cut short
    await sendTo(port, encode(new Message("/after", 7)));
    const o = await run.done;
    expect(o.error).toBeUndefined();
    expect(run.logs[1]).toEqual(["/after", 7]);
    const warnings = run.ioLogs.filter((l) => l.level === "warn");
    expect(warnings).toHaveLength(2);
    expect(warnings[0].msg).toMatch(new RegExp(`OSC port ${port}: dropped a malformed packet of 23 bytes from 127.0.0.1:\\d+`));
  });

  it("recv(timeout) returns nil when nothing arrives in time", async () => {
    const port = await freeUdpPort();
    const o = await kit.start(`
      local s = osc.listen(${port}, { host = "127.0.0.1" })
      log.info(s:recv(50), s.port)`, { capabilities: grant(port) });
    const out = await o.done;
    expect(out.error).toBeUndefined();
    expect(o.logs[0]).toEqual([null, port]);
  });
});

describe("a script sends OSC to a console", () => {
  it("sends every argument type, keeping 2.0 a float and nil in place", async () => {
    const listener = dgram.createSocket("udp4");
    await new Promise<void>((r) => listener.bind(0, "127.0.0.1", () => r()));
    const port = listener.address().port;
    const got = new Promise<Buffer>((r) => listener.once("message", (b) => r(b)));
    const run = kit.start(`
      core.await(osc.send("127.0.0.1", ${port}, "/light/level", { 7, 2.0, 0.5, "on", true, false, nil, osc.blob("\\0\\255"), osc.int(3), osc.NIL }))`, { capabilities: grant(port) });
    const o = await run.done;
    expect(o.error).toBeUndefined();
    const buf = await got;
    listener.close();
    const d = decode(buf) as { address: string; args: { value: unknown }[] };
    expect(d.address).toBe("/light/level");
    expect(buf.toString("latin1")).toContain(",iffsTFNbiN\0");
    expect(d.args.map((a) => (Buffer.isBuffer(a.value) ? [...a.value] : a.value))).toEqual([7, 2, 0.5, "on", true, false, null, [0, 255], 3, null]);
  });
});

describe("OSC stays within the ports the script was granted", () => {
  it("refuses to listen or send outside the grant, naming the capability", async () => {
    const run = kit.start(`
      local ok, e = pcall(osc.listen, 9000)
      log.info(ok, e.type, e.message)
      local ok2, e2 = pcall(function() return core.await(osc.send("127.0.0.1", 9001, "/x", {})) end)
      log.info(ok2, e2.type, e2.message)`, { capabilities: ["net.osc:8000-8010"] });
    const o = await run.done;
    expect(o.error).toBeUndefined();
    expect(run.logs[0]).toEqual([false, "PermissionDenied", 'using OSC port 9000 needs capability "net.osc:9000"']);
    expect(run.logs[1]).toEqual([false, "PermissionDenied", 'using OSC port 9001 needs capability "net.osc:9001"']);
  });

  it("says which port is in use", async () => {
    const taken = dgram.createSocket("udp4");
    await new Promise<void>((r) => taken.bind(0, "127.0.0.1", () => r()));
    const port = taken.address().port;
    const run = kit.start(`
      local ok, e = pcall(osc.listen, ${port}, { host = "127.0.0.1" })
      log.info(ok, e.type, e.message)`, { capabilities: grant(port) });
    const o = await run.done;
    taken.close();
    expect(o.error).toBeUndefined();
    expect(run.logs[0]).toEqual([false, "NetworkError", `osc.listen: UDP port ${port} on 127.0.0.1 is already in use (another program or listener has it)`]);
  });
});

describe("cancelling a listener script frees its port", () => {
  it("returns nil from the pending recv and closes the socket", async () => {
    const port = await freeUdpPort();
    const run = kit.start(`
      local s = core.await(osc.listen(${port}, { host = "127.0.0.1" }))
      log.info("ready")
      while not context.cancelled() do
        local m = core.await(s:recv())
        log.info("got", m)
      end`, {
      capabilities: grant(port),
      bindings: { "context.cancelled": { kind: "sync", fn: () => run.controller.signal.aborted } },
    });
    await until(() => isReady(run.logs), 5000, "listener");
    run.handle.cancel("stopped by the operator");
    run.controller.abort();
    const o = await run.done;
    expect(o.status).toBe("cancelled");
    expect(run.logs.slice(1)).toEqual([["got", null]]);
    // the port is free again: another socket can bind it
    const again = dgram.createSocket("udp4");
    await new Promise<void>((resolve, reject) => {
      again.once("error", reject);
      again.bind(port, "127.0.0.1", () => resolve());
    });
    again.close();
  });
});
