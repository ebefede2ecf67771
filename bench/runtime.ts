// Script runtime figures: the cost of core.set_field from Lua into a session overlay against the
// same calls through the TypeScript session API (same run), commit time, run start latency, and
// how soon a busy script's batched write shows in the live preview, against the 50 ms flush tick.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { loadModules } from "../daemon/config/index.ts";
import { WorkspaceStore, levelPersistence } from "../daemon/crdt/index.ts";
import type { Operation } from "../daemon/crdt/index.ts";
import { createLuaEngine } from "../daemon/scripts/engine/index.ts";
import { Session, createScriptRuntime, inlineScripts } from "../daemon/scripts/runtime/index.ts";
import type { RuntimeEvent } from "../daemon/scripts/runtime/index.ts";
import { size } from "./scale.ts";

/** The longest a batched write waits in the worker while Lua computes (engine's FLUSH_EVERY_MS). */
const FLUSH_TICK_MS = 50;

const N = size(10_000);
const ENTITIES = size(1000, 10);
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

export async function run(report: (name: string, value: number, unit: string) => void): Promise<void> {
  const dir = mkdtempSync(path.join(tmpdir(), "openprod-bench-runtime-"));
  const { schema } = await loadModules(path.resolve(import.meta.dirname, "../examples/show"));
  const store = await WorkspaceStore.open({ persistence: levelPersistence({ dir }), schema, workspaceId: "ws-bench", peerId: "bench" });
  const engine = createLuaEngine({ maxWorkers: 2, warmWorkers: 1 });
  try {
    const creates: Operation[] = Array.from({ length: ENTITIES }, (_, i) => ({ op: "CreateEntity", tables: ["lighting_fixtures"], fields: { unit_number: `U${i}`, channel: i } }));
    const ids = (await store.apply(creates, { actor: { kind: "user", name: "bench" } })).results.map((r) => r?.id as string);
    const scripts = inlineScripts({
      empty: { source: "local ids = args.ids" },
      set: { source: `local ids = args.ids local n = #ids for i = 1, ${N} do core.set_field(ids[(i % n) + 1], "channel", i) end` },
      start: { source: "local x = 1" },
      // One write, then computation without a single host call until cancelled.
      busy: { source: `core.set_field(args.ids[1], "channel", 1) local n = 0 while not context.cancelled() do n = n + 1 end` },
    });
    const listeners = new Set<(e: RuntimeEvent) => void>();
    const runtime = createScriptRuntime({ store, engine, scripts, events: { emit: (e) => listeners.forEach((l) => l(e)) }, dialogs: { ask: async () => null } });
    const timed = async (script: string): Promise<number> => {
      const t0 = performance.now();
      const r = await runtime.run(script, { args: { ids } }).done;
      const ms = performance.now() - t0;
      if (r.status !== "ok") throw new Error(`${script} failed: ${JSON.stringify(r.error)}`);
      if (r.sessionId && r.sessionStatus === "open") await runtime.discardSession(r.sessionId);
      return ms;
    };
    const direct = async (): Promise<{ ms: number; session: Session }> => {
      const session = new Session({ store, emit: () => undefined }, { id: `bench-${Math.random()}`, scriptId: "bench", runId: "bench", hash: "", isolation: "snapshot", heads: store.heads(), startHlc: store.hlcNow(), resolutions: {} });
      session.persistHeader();
      const t0 = performance.now();
      for (let i = 1; i <= N; i++) session.setField(ids[i % ENTITIES], "channel", i);
      await session.flush();
      return { ms: performance.now() - t0, session };
    };

    for (let i = 0; i < 2; i++) {
      await timed("empty");
      await timed("set");
      await (await direct()).session.discard();
    }
    const ratios: number[] = [];
    for (let i = 0; i < 5; i++) {
      const lua = (await timed("set")) - (await timed("empty"));
      const d = await direct();
      await d.session.discard();
      ratios.push(lua / d.ms);
    }
    report("lua.set_field.overhead_ratio", median(ratios), "ratio");

    const commits: number[] = [];
    for (let i = 0; i < 3; i++) {
      const { session } = await direct();
      const t0 = performance.now();
      const r = await session.commit({ actor: { kind: "script", name: "bench", runId: "bench" }, origin: { script: "bench" } });
      commits.push(performance.now() - t0);
      if (r.status !== "committed") throw new Error("bench commit did not apply");
    }
    report("session.commit.ms@10k_ops", median(commits), "ms");

    const starts: number[] = [];
    for (let i = 0; i < 30; i++) {
      const r = await runtime.run("start").done;
      if (r.startupMs !== undefined) starts.push(r.startupMs);
    }
    report("runtime.run_start.ms.p50", median(starts), "ms");

    // First line of the script → its write in an overlay.ops event, while the script keeps computing.
    const lags: number[] = [];
    for (let i = 0; i < 7; i++) {
      let firstWrite = 0;
      const seen = new Promise<void>((resolve) => {
        const l = (e: RuntimeEvent): void => {
          if (e.type === "run.started") firstWrite = performance.now();
          if (e.type === "overlay.ops") {
            lags.push(performance.now() - firstWrite);
            listeners.delete(l);
            resolve();
          }
        };
        listeners.add(l);
      });
      const start = runtime.run("busy", { args: { ids } });
      await seen;
      start.cancel("bench");
      await start.done;
    }
    const lag = median(lags.slice(2));
    report("session.preview.busy_write_visible.ms.p50", lag, "ms");
    report("session.preview.busy_write_visible_vs_flush_tick", lag / FLUSH_TICK_MS, "ratio");
  } finally {
    await engine.close();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  await run((name, value, unit) => console.log(JSON.stringify({ name, value: Math.round(value * 1000) / 1000, unit })));
}
