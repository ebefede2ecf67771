/**
 * Lua worker thread: compiles wasm once, keeps a fresh sandbox ready, hosts runs (one executing
 * at a time; others parked on core.await), and answers syntax checks. Started through
 * worker-entry.mjs so TypeScript loads.
 */
import { parentPort, workerData } from "node:worker_threads";
import type { MessagePort } from "node:worker_threads";
import { LuaVm } from "./lua-vm.ts";
import type { Sandbox } from "./lua-vm.ts";
import { WorkerRun } from "./worker-run.ts";
import { fromWire } from "./wire.ts";
import type { FromWorker, ToWorker } from "./wire.ts";

async function main(): Promise<void> {
  const port = parentPort;
  if (!port) throw new Error("worker.ts must run in a worker thread");
  const { replyPort } = workerData as { replyPort: MessagePort };
  const post = (m: FromWorker): void => port.postMessage(m);
  const vm = await LuaVm.create();
  let warm: Sandbox | null = vm.newSandbox();
  const runs = new Map<string, WorkerRun>();

  const prepare = (): void => {
    if (warm === null) warm = vm.newSandbox();
  };

  port.on("message", (m: ToWorker) => {
    switch (m.t) {
      case "run": {
        const sb = warm ?? vm.newSandbox();
        warm = null;
        const i32 = new Int32Array(m.control);
        const f64 = new Float64Array(m.control);
        const run = new WorkerRun(m.spec, vm, sb, { post, replyPort, i32, f64 });
        runs.set(m.spec.runId, run);
        void run.execute().finally(() => {
          vm.close(sb);
          runs.delete(m.spec.runId);
        });
        setImmediate(prepare);
        break;
      }
      case "settle":
        runs.get(m.runId)?.settleFromHost(m.id, m.ok, fromWire(m.value), m.error);
        break;
      case "wake":
        runs.get(m.runId)?.wake();
        break;
      case "check":
        post({ t: "checked", id: m.id, problem: vm.checkSyntax(m.source, m.chunkName) });
        break;
    }
  });
  post({ t: "ready" });
}

await main();
