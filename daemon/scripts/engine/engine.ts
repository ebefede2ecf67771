/** createLuaEngine: sandboxed Lua 5.4 runs in a pool of worker threads. */
import { LuaRun } from "./lua-run.ts";
import { WorkerPool } from "./worker-pool.ts";
import type { FromWorker } from "./wire.ts";
import type { LuaEngine, LuaEngineOptions, RunHandle, RunRequest, SyntaxProblem } from "./types.ts";

const DEFAULT_MAX_WORKERS = 16;
const DEFAULT_WARM_WORKERS = 2;
const DEFAULT_RUNS_PER_WORKER = 8;

export function createLuaEngine(opts: LuaEngineOptions = {}): LuaEngine {
  const max = Math.max(1, opts.maxWorkers ?? DEFAULT_MAX_WORKERS);
  const pool = new WorkerPool(max, Math.min(max, opts.warmWorkers ?? DEFAULT_WARM_WORKERS), Math.max(1, opts.maxRunsPerWorker ?? DEFAULT_RUNS_PER_WORKER));
  const clock = opts.clock ?? (() => performance.now());
  const runs = new Set<LuaRun>();
  let checks = 0;

  return {
    async checkSyntax(source: string, chunkName: string): Promise<SyntaxProblem | null> {
      const id = ++checks;
      const key = `check:${id}`;
      let settle: { resolve: (p: SyntaxProblem | null) => void; reject: (e: Error) => void } | null = null;
      const answer = new Promise<SyntaxProblem | null>((resolve, reject) => (settle = { resolve, reject }));
      const w = await pool.acquire(key, {
        onMessage: (m: FromWorker) => {
          if (m.t === "checked" && m.id === id) settle?.resolve(m.problem);
        },
        onExit: (code) => settle?.reject(new Error(`Lua worker exited (code ${code}) during a syntax check of ${chunkName}`)),
      });
      try {
        w.post({ t: "check", id, source, chunkName });
        return await answer;
      } finally {
        pool.release(w, key);
      }
    },

    run(req: RunRequest): RunHandle {
      const run = new LuaRun(req, pool, clock);
      runs.add(run);
      void run.done.then(() => runs.delete(run));
      return run;
    },

    async close(): Promise<void> {
      for (const r of runs) r.kill("engine closed");
      await pool.close();
    },
  };
}
