/**
 * The scripts service: the show's script runtime (built once by main.ts, see
 * script-host.ts) on the socket. Runs scripts (`scripts.run`), keeps their run records and
 * sessions reviewable (`runs.*`, `sessions.*`), and answers dialogs and
 * capability revocations from clients.
 */
import { InvalidOperation } from "../crdt/vocabulary.ts";
import { checkScriptArgs } from "../config/index.ts";
import type { WorkspaceStore } from "../crdt/index.ts";
import { RunRecordStore } from "../scripts/runtime/index.ts";
import type { ScriptCatalog, ScriptRuntime } from "../scripts/runtime/index.ts";
import type { ScriptHost, ScriptHostOptions } from "./script-host.ts";
import type { RunListEntry } from "../../protocol/index.ts";
import type { DaemonService } from "./service.ts";
import { RunTracker, recordOf, summarize } from "./run-summaries.ts";
import { describeOps, sessionInfo, sessionOf } from "./session-review.ts";
import { listScripts } from "./script-list.ts";
import { storeNames } from "./entity-naming.ts";
import { bool, int, nonEmpty, obj, oneOf, opt, record, value } from "./params.ts";

/** What the daemon's options may set for the scripts (see ScriptHostOptions). */
export type ScriptsServiceOptions = ScriptHostOptions;

/** The parts of the script host the scripts service uses. */
export type ScriptsServiceHost = Pick<ScriptHost, "runtime" | "dialogs" | "debugging" | "watcher">;

const empty = obj({});
const choice = oneOf(["script", "canonical"] as const);

export function createScriptsService(host: ScriptsServiceHost): DaemonService {
  return {
    name: "scripts",
    async start(ctx) {
      const { store, methods, log } = ctx;
      const { runtime: rt, dialogs, debugging, watcher: watching } = host;
      const nameOf = storeNames(store);
      // Runs started through scripts.run, until they end: runs.cancel stops them.
      const runs = new RunTracker();
      /** The catalog in force now: edits to the show's files replace it. */
      const scripts = (): ScriptCatalog => watching.current().scripts;

      methods.register("scripts.list", empty, () => listScripts(watching.current().show, scripts()));
      debugging.register(methods, rt, scripts);

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
            const s = summarize(r, nameOf);
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
        return summarize(await recordOf(rt, p.runId), nameOf);
      });

      methods.register("runs.cancel", obj({ target: nonEmpty, keepOverlay: opt(bool) }), async (p, call) => {
        const stopped = await rt.cancel(p.target, `cancelled by ${call.clientName}`, { keepOverlay: p.keepOverlay === true });
        log.info(`${call.clientName} cancelled ${stopped.map((r) => `${r.runId} (${r.script}, ${r.kind})`).join(", ")}`, { target: p.target });
        return { cancelled: stopped.map((r) => ({ ...summarize(r.result, nameOf), kind: r.kind })) };
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
        // The engine is closed by main.ts (ScriptHost.close) once this has stopped.
        async stop() {
          await watching.close();
          dialogs.close("the daemon is stopping");
          await debugging.close();
          await rt.shutdown("the daemon is stopping");
          await runs.settled(2000);
        },
      };
    },
  };
}

async function listRuns(store: WorkspaceStore, rt: ScriptRuntime, limit: number, script: string | undefined): Promise<RunListEntry[]> {
  const out: RunListEntry[] = rt.running().map((r) => ({ runId: r.runId, script: r.script, status: "running", startedAt: null, endedAt: null, ops: 0, sessionId: null }));
  const done: RunListEntry[] = [];
  for await (const r of new RunRecordStore(store).list()) {
    if (script !== undefined && r.script !== script) continue;
    done.push({ runId: r.runId, script: r.script, status: r.status, startedAt: r.startedAt, endedAt: r.endedAt, ops: r.ops, sessionId: r.sessionId ?? null, user: r.user });
  }
  done.sort((a, b) => (b.startedAt ?? 0) - (a.startedAt ?? 0));
  return [...out.filter((r) => script === undefined || r.script === script), ...done].slice(0, limit);
}
