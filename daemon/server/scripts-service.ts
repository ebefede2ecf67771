/**
 * The scripts service: the Lua engine and script runtime for the show, on
 * the socket. Runs scripts (`scripts.run`), keeps their run records and
 * sessions reviewable (`runs.*`, `sessions.*`), turns the runtime's events
 * into socket events (script log lines into the daemon log), and routes its
 * dialogs through the DialogBroker to whichever client answers.
 */
import { readFile } from "node:fs/promises";
import { InvalidOperation } from "../crdt/errors.ts";
import { checkScriptArgs } from "../config/index.ts";
import type { WorkspaceStore } from "../crdt/index.ts";
import { CapabilitySet } from "../scripts/capabilities/index.ts";
import { createLuaEngine } from "../scripts/engine/index.ts";
import { configuredScriptIds, createScriptRuntime, showScripts } from "../scripts/runtime/index.ts";
import type { RunRecord, RuntimeEvent, ScriptCatalog, ScriptRuntime } from "../scripts/runtime/index.ts";
import { loadShowTriggers } from "../triggers/index.ts";
import { watchShow } from "./show-watcher.ts";
import type { ShowWatcher } from "./show-watcher.ts";
import type { RunListEntry } from "../../protocol/index.ts";
import type { DaemonService, ServiceContext } from "./service.ts";
import { DialogBroker } from "./dialog-broker.ts";
import { RunTracker, recordOf, summarize } from "./run-summaries.ts";
import { describeOps, sessionInfo, sessionOf } from "./session-review.ts";
import { listScripts } from "./script-list.ts";
import type { Logger } from "./logger.ts";
import { bool, int, nonEmpty, obj, oneOf, opt, record, value } from "./params.ts";

export interface ScriptsServiceOptions {
  /** How long a dialog waits for a client's answer (default 60 s). */
  dialogTimeoutMs?: number;
  /** Lua worker threads at most (default 4). */
  maxWorkers?: number;
  /** Script files are read through this (default: the file system). */
  readFile?: (file: string) => Promise<string>;
  now?: () => number;
}

export interface ScriptsService extends DaemonService {
  /** The running runtime; null until started (the triggers service runs scripts through it). */
  readonly runtime: ScriptRuntime | null;
  /** The show directory's watcher: the configuration in force, and a way to follow its changes. Null until started. */
  readonly watcher: ShowWatcher | null;
}

const empty = obj({});
const choice = oneOf(["script", "canonical"] as const);

export function createScriptsService(opts: ScriptsServiceOptions = {}): ScriptsService {
  let runtime: ScriptRuntime | null = null;
  let watcher: ShowWatcher | null = null;
  return {
    name: "scripts",
    get runtime() {
      return runtime;
    },
    get watcher() {
      return watcher;
    },
    async start(ctx) {
      const { show, store, methods, events, log } = ctx;
      const now = opts.now ?? Date.now;
      const catalog = showScripts({ root: show.dir.root, config: show.config, modules: show.modules, readFile: opts.readFile ?? ((f) => readFile(f, "utf8")) });
      // The same capability sets the trigger cycle check saw: the graph it checked is the one scripts are held to.
      const capabilities = loadShowTriggers(show).capabilities;
      const engine = createLuaEngine({ maxWorkers: opts.maxWorkers ?? 4, warmWorkers: 1 });
      const dialogs = new DialogBroker({ publish: (e) => events.publish(e), listening: () => events.wants("dialog.request"), timeoutMs: opts.dialogTimeoutMs, now });
      const rt = createScriptRuntime({
        store,
        engine,
        scripts: catalog,
        events: { emit: (e) => forward(e, events, log, now) },
        dialogs,
        clock: now,
        capabilities: (s) => capabilities.get(s.id) ?? CapabilitySet.none,
        scriptIds: () => configuredScriptIds(watcher?.current().show ?? show),
      });
      runtime = rt;
      const runs = new RunTracker();
      // Runs started through scripts.run, until they end: runs.cancel stops them.
      // Edits to scripts and config take effect for the next run; invalid ones are reported and ignored.
      const watching = await watchShow({
        show,
        runtime: rt,
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
      watcher = watching;
      /** The catalog in force now: edits to the show's files replace it. */
      const scripts = (): ScriptCatalog => watching.current().scripts;

      methods.register("scripts.list", empty, () => listScripts(watching.current().show, scripts()));

      methods.register(
        "scripts.run",
        obj({ script: nonEmpty, args: opt(record(value)), commit: opt(bool), wait: opt(bool), user: opt(nonEmpty), profile: opt(bool) }),
        async (p, call) => {
          // An unknown script or a bad section is the caller's mistake: say so now, not in a run record.
          const loaded = await scripts().load(p.script);
          // A file that does not parse is refused now, with where: never a run of an older version.
          const problem = await rt.check(p.script);
          if (problem) {
            throw new InvalidOperation(`${problem.file}:${problem.line}:${problem.column}: ${problem.message}; fix the file and run again`, {
              script: p.script,
              file: problem.file,
              line: problem.line,
              column: problem.column,
            });
          }
          const args = checkScriptArgs(p.script, loaded.config.args, p.args ?? {});
          const user = p.user ?? call.clientName;
          const start = rt.run(p.script, { args, user, ...(p.profile === undefined ? {} : { profile: p.profile }) });
          const finished = start.done.then(async (r) => {
            const s = summarize(r);
            if (p.commit && r.status === "ok" && r.sessionId !== undefined && r.sessionStatus === "open") {
              s.commit = await rt.commitSession(r.sessionId, user);
              if (s.commit.status === "committed") s.sessionStatus = "committed";
            }
            return s;
          });
          runs.add(start.runId, finished);
          if (p.wait === false) return { runId: start.runId, script: p.script, status: "running" as const };
          return finished;
        },
      );

      methods.register("runs.wait", obj({ runId: nonEmpty }), async (p) => {
        const live = runs.get(p.runId);
        if (live) return live;
        return summarize(await recordOf(rt, p.runId));
      });

      methods.register("runs.cancel", obj({ target: nonEmpty, keepOverlay: opt(bool) }), async (p, call) => {
        const stopped = await rt.cancel(p.target, `cancelled by ${call.clientName}`, { keepOverlay: p.keepOverlay === true });
        log.info(`${call.clientName} cancelled ${stopped.map((r) => `${r.runId} (${r.script}, ${r.kind})`).join(", ")}`, { target: p.target });
        return { cancelled: stopped.map((r) => ({ ...summarize(r.result), kind: r.kind })) };
      });

      methods.register("runs.get", obj({ runId: nonEmpty }), async (p) => ({ record: await recordOf(rt, p.runId) }));

      methods.register("runs.replay", obj({ runId: nonEmpty }), async (p) => {
        await recordOf(rt, p.runId); // an unknown run is EntityNotFound, as for runs.get
        return rt.replay(p.runId);
      });

      methods.register("runs.list", obj({ limit: opt(int(1, 10_000)), script: opt(nonEmpty) }), async (p) => ({
        runs: await listRuns(store, rt, p.limit ?? 50, p.script),
      }));

      methods.register("sessions.list", empty, async () => ({ sessions: (await rt.sessions()).map(sessionInfo) }));

      methods.register("sessions.get", obj({ id: nonEmpty }), async (p) => {
        const s = await sessionOf(rt, p.id);
        return { ...sessionInfo(s), changes: describeOps(store, s.ops) };
      });

      methods.register("sessions.commit", obj({ id: nonEmpty }), async (p, call) => {
        const r = await rt.commitSession(p.id, call.clientName);
        log.info(r.status === "committed" ? `session ${p.id} committed by ${call.clientName}: ${r.ops} op(s)` : `session ${p.id}: commit waits for ${r.conflicts.length} conflict(s) to be resolved`, {
          session: p.id,
        });
        return r;
      });

      methods.register("sessions.discard", obj({ id: nonEmpty }), async (p, call) => {
        await rt.discardSession(p.id);
        log.info(`session ${p.id} discarded by ${call.clientName}`, { session: p.id });
        return { id: p.id, status: "discarded" as const };
      });

      methods.register("sessions.conflicts", obj({ id: nonEmpty }), async (p) => ({ id: p.id, conflicts: (await sessionOf(rt, p.id)).conflicts }));

      methods.register("sessions.resolve", obj({ id: nonEmpty, conflictId: nonEmpty, choice }), async (p) => {
        await rt.resolveSessionConflict(p.id, p.conflictId, p.choice);
        return { id: p.id, conflictId: p.conflictId, choice: p.choice };
      });

      methods.register("sessions.resolveBulk", obj({ id: nonEmpty, choice }), async (p) => ({ id: p.id, resolved: await rt.resolveSessionBulk(p.id, p.choice) }));

      methods.register("dialog.respond", obj({ id: nonEmpty, answer: value }), (p, call) => dialogs.respond(p.id, p.answer, call.clientName));
      methods.register("dialog.list", empty, () => ({ dialogs: dialogs.list() }));

      methods.register("capabilities.revoke", obj({ script: nonEmpty, capability: nonEmpty }), async (p, call) => {
        await scripts().load(p.script);
        const stopped = rt.revokeCapability(p.script, p.capability);
        log.warn(`capability ${p.capability} revoked from ${p.script} by ${call.clientName}; ${stopped.length} running run(s) stopped`, { script: p.script, capability: p.capability });
        return { script: p.script, capability: p.capability, runs: stopped };
      });

      methods.register("scripts.start", obj({ script: nonEmpty, args: opt(record(value)) }), (p, call) => rt.startBackground(p.script, { args: p.args, user: call.clientName }));
      methods.register("scripts.stop", obj({ script: nonEmpty }), (p, call) => rt.stopBackground(p.script, `stopped by ${call.clientName}`));
      methods.register("scripts.restart", obj({ script: nonEmpty }), (p) => rt.restartBackground(p.script));
      methods.register("scripts.ps", empty, () => ({ scripts: rt.backgroundStatus() }));

      const started = await rt.startAutostart().catch((e: unknown) => {
        log.error(`background scripts with autostart could not all start: ${(e as Error).message}`, {});
        return [];
      });
      if (started.length) log.info(`started ${started.length} background script(s): ${started.map((s) => s.id).join(", ")}`, {});

      return {
        async stop() {
          await watching.close();
          watcher = null;
          dialogs.close("the daemon is stopping");
          await rt.shutdown("the daemon is stopping");
          await runs.settled(2000);
          await engine.close();
          runtime = null;
        },
      };
    },
  };
}

/** Runtime events → socket events; a script's log lines go through the daemon log (which publishes them). */
function forward(e: RuntimeEvent, events: ServiceContext["events"], log: Logger, now: () => number): void {
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
  events.publish(e);
}

async function listRuns(store: WorkspaceStore, rt: ScriptRuntime, limit: number, script: string | undefined): Promise<RunListEntry[]> {
  const out: RunListEntry[] = rt.running().map((r) => ({ runId: r.runId, script: r.script, status: "running", startedAt: null, endedAt: null, ops: 0, sessionId: null }));
  const done: RunListEntry[] = [];
  for await (const [, bytes] of store.records("runs").list()) {
    const r = JSON.parse(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("utf8")) as RunRecord;
    if (script !== undefined && r.script !== script) continue;
    done.push({ runId: r.runId, script: r.script, status: r.status, startedAt: r.startedAt, endedAt: r.endedAt, ops: r.ops, sessionId: r.sessionId ?? null, user: r.user });
  }
  done.sort((a, b) => (b.startedAt ?? 0) - (a.startedAt ?? 0));
  return [...out.filter((r) => script === undefined || r.script === script), ...done].slice(0, limit);
}
