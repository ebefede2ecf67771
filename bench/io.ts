/**
 * Show I/O throughput: OSC messages one listener script handles per second with none
 * dropped (flow-controlled sender; compared with a bare Node UDP receiver in the same run),
 * and HTTP requests per second a serving script answers.
 */
import dgram from "node:dgram";
import http from "node:http";
import type { AddressInfo } from "node:net";
import net from "node:net";
import { encode, Message } from "node-osc";
import { CapabilitySet, parseCapability } from "../daemon/scripts/capabilities/index.ts";
import { createLuaEngine } from "../daemon/scripts/engine/index.ts";
import type { HostBinding, LuaEngine } from "../daemon/scripts/engine/index.ts";
import { VirtualMidiPort, httpBindings, ioPreludeLua, midiBindings, oscBindings } from "../daemon/scripts/io/index.ts";
import type { IoContext } from "../daemon/scripts/io/index.ts";
import { size } from "./scale.ts";

type Report = (name: string, value: number, unit: string) => void;

const OSC_MESSAGES = size(50_000);
const WINDOW = 2_000;
const HTTP_REQUESTS = size(3_000);
const HTTP_CONCURRENCY = 16;

export async function run(report: Report): Promise<void> {
  const engine = createLuaEngine({ maxWorkers: 1, warmWorkers: 1 });
  try {
    report("osc.raw_udp_msgs_per_s", await rawUdp(), "msg/s");
    const osc = await oscListener(engine);
    report("osc.msgs_per_s", osc.rate, "msg/s");
    report("osc.dropped", osc.dropped, "msg");
    report("http.serve.req_per_s", await httpServe(engine), "req/s");
  } finally {
    await engine.close();
  }
}

function startRun(engine: LuaEngine, source: string, capabilities: string[], extra: Record<string, HostBinding>): { done: Promise<unknown>; abort: () => void; ioLogs: string[] } {
  const controller = new AbortController();
  const ioLogs: string[] = [];
  const ctx: IoContext = {
    capabilities: new CapabilitySet(capabilities.map((c) => parseCapability(c))),
    runId: "bench-io",
    log: (_l, msg) => void ioLogs.push(msg),
    record: () => undefined,
    signal: controller.signal,
    midi: new VirtualMidiPort(),
  };
  const h = engine.run({
    runId: `bench-io-${Math.random()}`,
    chunkName: "bench-io.lua",
    source,
    globals: {},
    seed: 1,
    limits: { timeoutMs: 120_000, memoryBytes: 256 * 1024 * 1024 },
    bindings: { ...oscBindings(ctx), ...midiBindings(ctx), ...httpBindings(ctx), ...extra },
    preludeLua: ioPreludeLua,
  });
  const done = h.done.then((o) => {
    controller.abort();
    if (o.status !== "ok") throw new Error(`bench script ended ${o.status}: ${o.error?.message ?? ""}`);
    return o;
  });
  return { done, abort: () => controller.abort(), ioLogs };
}

async function freePort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, "127.0.0.1", () => r()));
  const p = (s.address() as AddressInfo).port;
  await new Promise((r) => s.close(r));
  return p;
}

/** Sends `total` packets keeping at most WINDOW ahead of `handled()`. */
async function pump(port: number, total: number, handled: () => number): Promise<void> {
  const tx = dgram.createSocket("udp4");
  const packets = Array.from({ length: 64 }, (_, i) => encode(new Message("/cue/fire", i, 0.5, "go")));
  let sent = 0;
  while (sent < total) {
    const room = Math.min(total - sent, WINDOW - (sent - handled()));
    if (room <= 0) {
      await new Promise((r) => setImmediate(r));
      continue;
    }
    for (let i = 0; i < room; i++) tx.send(packets[(sent + i) & 63], port, "127.0.0.1");
    sent += room;
    await new Promise((r) => setImmediate(r));
  }
  await new Promise((r) => setTimeout(r, 50));
  tx.close();
}

async function rawUdp(): Promise<number> {
  const rx = dgram.createSocket("udp4");
  await new Promise<void>((r) => rx.bind(0, "127.0.0.1", () => r()));
  rx.setRecvBufferSize(4 * 1024 * 1024); // as the OSC listener does
  let n = 0;
  const all = new Promise<void>((resolve) => rx.on("message", () => ++n === OSC_MESSAGES && resolve()));
  const t0 = performance.now();
  await Promise.race([Promise.all([pump(rx.address().port, OSC_MESSAGES, () => n), all]), new Promise((r) => setTimeout(r, 30_000))]);
  const rate = n / ((performance.now() - t0) / 1000);
  rx.close();
  if (n < OSC_MESSAGES) throw new Error(`bare UDP receiver lost ${OSC_MESSAGES - n} of ${OSC_MESSAGES} packets: the baseline is void`);
  return rate;
}

async function oscListener(engine: LuaEngine): Promise<{ rate: number; dropped: number }> {
  const port = await freePort();
  let handled = 0;
  let ready!: () => void;
  const isReady = new Promise<void>((r) => (ready = r));
  const r = startRun(engine, `
    local s = osc.listen(${port}, { host = "127.0.0.1" })
    bench.ready()
    local n = 0
    while n < ${OSC_MESSAGES} do
      local m = s:recv(2000)
      if m == nil then break end
      if m.path == "/cue/fire" then n = n + 1 end
      if n % 250 == 0 then bench.progress(n) end
    end
    bench.progress(n)`, [`net.osc:${port}`], {
    "bench.ready": { kind: "event", fn: () => ready() },
    "bench.progress": { kind: "event", fn: (a) => void (handled = a[0] as number) },
  });
  await isReady;
  const t0 = performance.now();
  await pump(port, OSC_MESSAGES, () => handled);
  await r.done;
  const secs = (performance.now() - t0) / 1000;
  return { rate: handled / secs, dropped: OSC_MESSAGES - handled };
}

async function httpServe(engine: LuaEngine): Promise<number> {
  const port = await freePort();
  let ready!: () => void;
  const isReady = new Promise<void>((r) => (ready = r));
  const r = startRun(engine, `
    local server = http.serve(${port})
    bench.ready()
    for i = 1, ${HTTP_REQUESTS} do
      local req = server:accept()
      req:respond(200, "OK " .. (req.params.id or ""))
    end`, [`net.http.server:${port}`], { "bench.ready": { kind: "event", fn: () => ready() } });
  await isReady;
  const agent = new http.Agent({ keepAlive: true, maxSockets: HTTP_CONCURRENCY });
  let next = 0;
  const one = (): Promise<void> =>
    new Promise((resolve, reject) => {
      const req = http.get({ host: "127.0.0.1", port, path: `/trigger?id=${next++}`, agent }, (res) => {
        res.resume();
        res.on("end", () => (res.statusCode === 200 ? resolve() : reject(new Error(`status ${res.statusCode}`))));
      });
      req.on("error", reject);
    });
  const t0 = performance.now();
  await Promise.all(Array.from({ length: HTTP_CONCURRENCY }, async () => {
    while (next < HTTP_REQUESTS) await one();
  }));
  const secs = (performance.now() - t0) / 1000;
  agent.destroy();
  await r.done;
  return HTTP_REQUESTS / secs;
}
