// Debugger figures: what an attached debugger without breakpoints costs a CPU-bound script,
// and how long a DAP `next` takes until its `stopped` event, over a real loopback connection.
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { createLuaEngine } from "../daemon/scripts/engine/index.ts";
import type { LuaEngine, RunOutcome } from "../daemon/scripts/engine/index.ts";
import { DapReader, DapServer, DebugSession, DebugTarget, encodeMessage } from "../daemon/scripts/debug/index.ts";
import type { DapMessage } from "../daemon/scripts/debug/index.ts";
import { size } from "./scale.ts";

const limits = { timeoutMs: 120_000, memoryBytes: 256 << 20 };
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** Time from the script's first line to its end: a debugged run's own worker start is not the script's cost. */
const luaMs = (o: RunOutcome): number => o.endedAt - (o.firstLineAt ?? o.startedAt);

export async function run(report: (name: string, value: number, unit: string) => void): Promise<void> {
  const engine = createLuaEngine({ maxWorkers: 2, warmWorkers: 1 });
  try {
    await overhead(engine, report);
    await stepLatency(engine, report);
  } finally {
    await engine.close();
  }
}

async function overhead(engine: LuaEngine, report: (name: string, value: number, unit: string) => void): Promise<void> {
  // The same CPU-bound script as lua.profile.overhead_ratio: a loop, string building, deep recursion.
  const cpu = `local function f(n) local s = 0 for i = 1, n do s = (s + i * 7) % 1000003 end return s end
    local function g(n) local t = {} for i = 1, n do t[i] = tostring(i) end return #t end
    local function fib(n) if n < 2 then return n end return fib(n - 1) + fib(n - 2) end
    for r = 1, ${size(20, 2)} do f(100000) g(5000) fib(20) end`;
  let n = 0;
  const timed = async (debugged: boolean): Promise<number> => {
    let target: DebugTarget | null = null;
    if (debugged) {
      target = new DebugTarget(() => undefined);
      void target.request({ t: "start" });
    }
    const o = await engine.run({ runId: `bench-debug-${++n}`, chunkName: "cpu.lua", source: cpu, globals: {}, bindings: {}, seed: 1, limits, ...(target ? { debug: target.link } : {}) }).done;
    target?.close();
    if (o.status !== "ok") throw new Error(`debugged workload failed: ${JSON.stringify(o.error)}`);
    return luaMs(o);
  };
  await timed(false);
  const ratios: number[] = [];
  for (let i = 0; i < size(7, 1); i++) ratios.push((await timed(true)) / (await timed(false)));
  report("lua.debug.attached_overhead_ratio", median(ratios), "x");
}

/** A DAP client of a few lines: requests by seq, and a wait for the next event of a name. */
class Client {
  private seq = 1;
  private readonly replies = new Map<number, () => void>();
  private readonly waiters = new Map<string, ((m: DapMessage) => void)[]>();

  constructor(private readonly sock: net.Socket) {
    const reader = new DapReader(
      (m) => {
        if (m.type === "response") this.replies.get(m.request_seq)?.();
        else if (m.type === "event") this.waiters.get(m.event)?.shift()?.(m);
      },
      (e) => {
        throw e;
      },
    );
    sock.on("data", (d: Buffer) => reader.push(d));
  }

  request(command: string, args: Record<string, unknown> = {}): Promise<void> {
    const seq = this.seq++;
    this.sock.write(encodeMessage({ seq, type: "request", command, arguments: args }));
    return new Promise((resolve) => this.replies.set(seq, resolve));
  }

  next(event: string): Promise<DapMessage> {
    return new Promise((resolve) => {
      const list = this.waiters.get(event) ?? [];
      list.push(resolve);
      this.waiters.set(event, list);
    });
  }
}

async function stepLatency(engine: LuaEngine, report: (name: string, value: number, unit: string) => void): Promise<void> {
  const steps = size(200, 20);
  const source = `local x = 0\nfor i = 1, ${steps + 10} do\n  x = x + i\nend\n`;
  const dir = os.tmpdir();
  const session = new DebugSession({
    showDir: dir,
    mainChunk: "step.lua",
    mode: "launch",
    wallLimitMs: 600_000,
    launch: (link) => {
      const h = engine.run({ runId: "bench-step", chunkName: "step.lua", source, globals: {}, bindings: {}, seed: 1, limits, debug: link });
      return { runId: h.runId, done: h.done.then((o) => ({ status: o.status, summary: [] })), stop: () => h.cancel("bench over") };
    },
  });
  const server = await DapServer.listen(session, { port: 0, socketPath: path.join(dir, `openprod-bench-dap-${process.pid}.sock`) });
  const sock = net.connect({ host: "127.0.0.1", port: server.port });
  await new Promise((resolve) => sock.once("connect", resolve));
  sock.setNoDelay(true);
  const c = new Client(sock);
  try {
    await c.request("initialize", { adapterID: "bench" });
    await c.request("launch");
    await c.request("setBreakpoints", { source: { path: path.join(dir, "step.lua") }, breakpoints: [{ line: 3 }] });
    const first = c.next("stopped");
    await c.request("configurationDone");
    await first;
    await c.request("setBreakpoints", { source: { path: path.join(dir, "step.lua") }, breakpoints: [] });
    const times: number[] = [];
    for (let i = 0; i < steps; i++) {
      const stopped = c.next("stopped");
      const t0 = performance.now();
      await c.request("next", { threadId: 1 });
      await stopped;
      times.push(performance.now() - t0);
    }
    report("dap.step.ms.p50", median(times), "ms");
    const exited = c.next("exited");
    await c.request("continue", { threadId: 1 });
    await exited;
  } finally {
    sock.destroy();
    await server.close();
  }
}
