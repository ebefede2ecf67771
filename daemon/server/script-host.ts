/**
 * The script host: the Lua engine, the script runtime, the dialog broker and the show watcher
 * of one daemon, built once by main.ts. The scripts and triggers services are given the parts
 * of it they use; main.ts closes it (the engine last) after both services have stopped.
 */
import { readFile } from "node:fs/promises";
import type { ShowConfig } from "../config/index.ts";
import type { WorkspaceStore } from "../crdt/index.ts";
import { CapabilitySet } from "../scripts/capabilities/index.ts";
import { createLuaEngine } from "../scripts/engine/index.ts";
import type { LuaEngine } from "../scripts/engine/index.ts";
import { configuredScriptIds, createScriptRuntime, showScripts } from "../scripts/runtime/index.ts";
import type { RuntimeEvent, ScriptRuntime } from "../scripts/runtime/index.ts";
import { loadShowTriggers } from "../triggers/index.ts";
import type { ShowTriggers } from "../triggers/index.ts";
import type { DaemonEvent } from "../../protocol/index.ts";
import { DebugSessions } from "./debug-service.ts";
import { DialogBroker } from "./dialog-broker.ts";
import type { EventHub } from "./event-hub.ts";
import type { Logger } from "./logger.ts";
import { watchShow } from "./show-watcher.ts";
import type { ShowWatcher } from "./show-watcher.ts";

export interface ScriptHostOptions {
  /** How long a dialog waits for a client's answer (default 60 s). */
  dialogTimeoutMs?: number;
  /** Lua worker threads at most (default 4). */
  maxWorkers?: number;
  /** Script files are read through this (default: the file system). */
  readFile?: (file: string) => Promise<string>;
  now?: () => number;
}

export interface ScriptHost {
  readonly engine: LuaEngine;
  readonly runtime: ScriptRuntime;
  readonly dialogs: DialogBroker;
  /** Debugging sessions (openprod debug): the runtime asks them whether a debugger waits for a run. */
  readonly debugging: DebugSessions;
  /** The show directory's watcher: the configuration in force, and a way to follow its changes. */
  readonly watcher: ShowWatcher;
  /**
   * The show's triggers and script capabilities as loaded at start, once: the runtime holds
   * scripts to these capabilities and the triggers service checks its cycles on the same load.
   */
  readonly showTriggers: ShowTriggers;
  /** Closes the engine (the services have stopped the watcher, the dialogs and the runtime). */
  close(): Promise<void>;
}

export async function startScriptHost(input: { show: ShowConfig; store: WorkspaceStore; events: EventHub; log: Logger }, opts: ScriptHostOptions = {}): Promise<ScriptHost> {
  const { show, store, events, log } = input;
  const now = opts.now ?? Date.now;
  // Watched (the show watcher below reports every edit to the runtime): sources are kept between runs.
  const catalog = showScripts({ root: show.dir.root, config: show.config, modules: show.modules, readFile: opts.readFile ?? ((f) => readFile(f, "utf8")), watched: true });
  // The same capability sets the trigger cycle check sees: the graph it checks is the one scripts are held to.
  const showTriggers = loadShowTriggers(show);
  const capabilities = showTriggers.capabilities;
  const engine = createLuaEngine({ maxWorkers: opts.maxWorkers ?? 4, warmWorkers: 1 });
  const dialogs = new DialogBroker({ publish: (e) => events.publish(e), listening: () => events.wants("dialog.request"), timeoutMs: opts.dialogTimeoutMs, now });
  const debugging = new DebugSessions(show.dir.root);
  let watcher: ShowWatcher | null = null;
  const runtime: ScriptRuntime = createScriptRuntime({
    store,
    engine,
    scripts: catalog,
    events: {
      emit: (e) => {
        debugging.observe(e, runtime);
        forward(e, events, log, now);
      },
    },
    debugger: (r) => debugging.debuggerFor(r),
    dialogs,
    clock: now,
    capabilities: (s) => capabilities.get(s.id) ?? CapabilitySet.none,
    scriptIds: () => configuredScriptIds(watcher?.current().show ?? show),
  });
  try {
    // Edits to scripts and config take effect for the next run; invalid ones are reported and ignored.
    watcher = await watchShow({
      show,
      runtime,
      checkSyntax: (source, chunk) => engine.checkSyntax(source, chunk),
      readFile: opts.readFile,
      report: (c) => {
        if (c.type === "show.invalid") {
          const at = `${c.file}${c.line !== null ? `:${c.line}` : ""}${c.column !== null ? `:${c.column}` : ""}`;
          log.error(`${at}: ${c.reason}`, { file: c.file, line: c.line, column: c.column });
        } else if (c.type === "show.removed") log.info(`${c.file} removed: ${c.scripts.join(", ")} can no longer run`, { file: c.file });
        else log.info(`${c.file} changed: reloaded (${c.scripts.join(", ") || "no scripts"})`, { file: c.file });
      },
    });
  } catch (e) {
    await engine.close();
    throw e;
  }
  const watching = watcher;
  return { engine, runtime, dialogs, debugging, watcher: watching, showTriggers, close: () => engine.close() };
}

/** Runtime events → socket events; a script's log lines go through the daemon log (which publishes them). */
function forward(e: RuntimeEvent, events: EventHub, log: Logger, now: () => number): void {
  if (e.type === "log") {
    const fields = { script: e.script, runId: e.runId };
    // The daemon log drops debug lines; a client following the run still sees them.
    if (e.level === "debug") {
      if (events.wants("log")) events.publish({ type: "log", time: new Date(now()).toISOString(), level: "debug", msg: e.message, fields });
    } else log.log(e.level, e.message, fields);
    return;
  }
  if (e.type === "run.finished") log.info(`run ${e.runId} of ${e.script} ended: ${e.status}, ${e.ops} op(s)${e.sessionId ? `, session ${e.sessionId}` : ""}`, { runId: e.runId, script: e.script });
  if (e.type === "overlay.ops" && !events.wants("overlay.ops")) return;
  events.publish(e as DaemonEvent);
}
