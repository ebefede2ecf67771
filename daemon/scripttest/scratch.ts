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
import { WorkspaceStore } from "../crdt/index.ts";
import { CapabilitySet } from "../scripts/capabilities/index.ts";
import type { LuaEngine } from "../scripts/engine/index.ts";
import { createScriptRuntime, showScripts } from "../scripts/runtime/index.ts";
import type { DialogRequest, RuntimeEvent, ScriptRuntime } from "../scripts/runtime/index.ts";
import { loadShowTriggers } from "../triggers/index.ts";
import type { VirtualClock } from "./virtual-clock.ts";

/** What the show gives every scratch workspace: loaded once per run of the runner. */
export interface ShowUnderTest {
  show: ShowConfig;
  capabilities: Map<string, CapabilitySet>;
}

export function showUnderTest(show: ShowConfig): ShowUnderTest {
  return { show, capabilities: loadShowTriggers(show).capabilities };
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
  private constructor(
    readonly store: WorkspaceStore,
    readonly runtime: ScriptRuntime,
    private readonly dir: string,
  ) {}

  static async open(input: { show: ShowUnderTest; engine: LuaEngine; clock: VirtualClock; parentDir: string }): Promise<ScratchWorkspace> {
    const { show, capabilities } = input.show;
    const dir = mkdtempSync(path.join(input.parentDir, "ws-"));
    const store = await WorkspaceStore.open({
      dir,
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
      capabilities: (s) => capabilities.get(s.id) ?? CapabilitySet.none,
    });
    const ws = new ScratchWorkspace(store, runtime, dir);
    holder.ws = ws;
    return ws;
  }

  private answer(req: DialogRequest): unknown {
    this.asked.push(req);
    const i = this.answers.findIndex((a) => a.message === req.message);
    if (i < 0) return null;
    return this.answers.splice(i, 1)[0].value;
  }

  async close(): Promise<void> {
    await this.runtime.shutdown("test finished");
    await this.store.close();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

export function scratchRoot(): string {
  return mkdtempSync(path.join(tmpdir(), "openprod-test-"));
}
