/**
 * A scratch workspace: a real store on a temp LevelDB directory with the show's schema and a
 * script runtime over it with the show's scripts and capabilities. Nothing of the real show's
 * store is opened; dialogs are answered from what the test said, time is a virtual clock.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import type { ShowConfig } from "../config/index.ts";
import { WorkspaceStore, levelPersistence } from "../crdt/index.ts";
import { CapabilitySet } from "../scripts/capabilities/index.ts";
import type { LuaEngine } from "../scripts/engine/index.ts";
import { createScriptRuntime, showScripts } from "../scripts/runtime/index.ts";
import type { DialogRequest, RuntimeEvent, ScriptRuntime } from "../scripts/runtime/index.ts";
import { createRuntimeTriggerRunner, createTriggerDispatcher, describeFiring, loadShowTriggers } from "../triggers/index.ts";
import type { ShowTriggers, TriggerDispatcher, TriggerRunner } from "../triggers/index.ts";
import type { VirtualClock } from "./virtual-clock.ts";

/** What the show gives every scratch workspace: loaded once per run of the runner. */
export interface ShowUnderTest {
  show: ShowConfig;
  /** The show's triggers and every script's capabilities, as the daemon loads them. */
  triggers: ShowTriggers;
}

export function showUnderTest(show: ShowConfig): ShowUnderTest {
  return { show, triggers: loadShowTriggers(show) };
}

/** A trigger that fired in the scratch workspace: what changed, what ran, how it ended. */
export interface FiredTrigger {
  trigger: string;
  script: string;
  entity: string;
  field: string;
  oldValue: unknown;
  newValue: unknown;
  args: Record<string, unknown>;
  runId: string | null;
  status: string;
  error?: { type: string; message: string };
}

export interface DialogAnswer {
  message: string;
  value: unknown;
}

export class ScratchWorkspace {
  readonly events: RuntimeEvent[] = [];
  readonly asked: DialogRequest[] = [];
  /** Answers by dialog message, given by sim.dialog.answer; an unanswered dialog gets null (dismissed). */
  readonly answers: DialogAnswer[] = [];
  readonly fired: FiredTrigger[] = [];
  /** While set, changes do not reach the triggers (a fixture is the state a test starts from, not an edit). */
  private muted = false;
  private dispatcher: TriggerDispatcher | null = null;
  private constructor(
    readonly store: WorkspaceStore,
    readonly runtime: ScriptRuntime,
    private readonly dir: string,
  ) {}

  private startTriggers(show: ShowTriggers, now: () => number): void {
    const inner = createRuntimeTriggerRunner(this.runtime);
    const runner: TriggerRunner = {
      run: async (req, signal) => {
        const f: FiredTrigger = {
          ...describeFiring(req),
          runId: null,
          status: "running",
        };
        this.fired.push(f);
        const out = await inner.run(req, signal);
        Object.assign(f, { runId: out.runId, status: out.status }, out.error ? { error: out.error } : {});
        return out;
      },
    };
    const store = this.store;
    this.dispatcher = createTriggerDispatcher({
      store: {
        onChange: (l) => store.onChange((e) => void (this.muted || l(e))),
        getField: (id, name) => store.getField(id, name),
        edgesOf: (entity, o) => store.edgesOf(entity, o),
      },
      triggers: show.triggers,
      rejected: show.rejected,
      runner,
      now,
    });
  }

  /** Runs `fn` with the triggers deaf to its changes. */
  async quietly<T>(fn: () => Promise<T>): Promise<T> {
    this.muted = true;
    try {
      return await fn();
    } finally {
      this.muted = false;
    }
  }

  /** Waits until every trigger run the changes so far caused has ended. */
  async settle(): Promise<void> {
    await this.dispatcher?.idle();
  }

  static async open(input: { show: ShowUnderTest; engine: LuaEngine; clock: VirtualClock; parentDir: string }): Promise<ScratchWorkspace> {
    const { show, triggers } = input.show;
    const dir = mkdtempSync(path.join(input.parentDir, "ws-"));
    const store = await WorkspaceStore.open({
      persistence: levelPersistence({ dir }),
      schema: show.schema,
      workspaceId: show.config.workspace.id,
      peerId: "peer-test",
      now: input.clock.now,
      random: input.clock.random,
    });
    const holder: { ws: ScratchWorkspace | null } = { ws: null };
    const runtime = createScriptRuntime({
      store,
      engine: input.engine,
      scripts: showScripts({ root: show.dir.root, config: show.config, modules: show.modules, readFile: (f) => readFile(f, "utf8") }),
      events: { emit: (e) => void holder.ws?.events.push(e) },
      dialogs: { ask: async (req) => (holder.ws ? holder.ws.answer(req) : null) },
      clock: input.clock.now,
      random: input.clock.random,
      capabilities: (s) => triggers.capabilities.get(s.id) ?? CapabilitySet.none,
    });
    const ws = new ScratchWorkspace(store, runtime, dir);
    holder.ws = ws;
    ws.startTriggers(triggers, input.clock.now);
    return ws;
  }

  private answer(req: DialogRequest): unknown {
    this.asked.push(req);
    const i = this.answers.findIndex((a) => a.message === req.message);
    if (i < 0) return null;
    return this.answers.splice(i, 1)[0].value;
  }

  async close(): Promise<void> {
    this.dispatcher?.stop();
    await this.settle();
    await this.runtime.shutdown("test finished");
    await this.store.close();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

export function scratchRoot(): string {
  return mkdtempSync(path.join(tmpdir(), "openprod-test-"));
}
