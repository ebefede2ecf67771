/**
 * The scripts service: the Lua engine and script runtime for the show, on
 * the socket. Runs scripts (`scripts.run`), keeps their run records and
 * sessions reviewable (`runs.*`, `sessions.*`), turns the runtime's events
 * into socket events (script log lines into the daemon log), and routes its
 * dialogs through the DialogBroker to whichever client answers.
 */
import { readFile } from "node:fs/promises";
import fs from "node:fs";
import path from "node:path";
import { EntityNotFound, InvalidOperation } from "../crdt/errors.ts";
import { entityName } from "../crdt/index.ts";
import { nameIdsIn, storeNames } from "./entity-naming.ts";
import type { NameOf } from "./entity-naming.ts";
import { checkScriptArgs } from "../config/index.ts";
import type { FieldValue, Operation, WorkspaceStore } from "../crdt/index.ts";
import type { ShowConfig } from "../config/index.ts";
import { CapabilitySet } from "../scripts/capabilities/index.ts";
import { createLuaEngine } from "../scripts/engine/index.ts";
import { configuredScriptIds, createScriptRuntime, showScripts } from "../scripts/runtime/index.ts";
import type { RunRecord, RunResult, RuntimeEvent, ScriptCatalog, ScriptRuntime, SessionSummary } from "../scripts/runtime/index.ts";
import { loadShowTriggers } from "../triggers/index.ts";
import { watchShow } from "./show-watcher.ts";
import type { ShowWatcher } from "./show-watcher.ts";
import type { DaemonEvent } from "../../protocol/events.ts";
import type { RunListEntry, RunSummary, ScriptInfo, SessionChange, SessionInfo } from "../../protocol/script-methods.ts";
import type { DaemonService, ServiceContext } from "../main.ts";
import { DialogBroker } from "./dialog-broker.ts";
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

/** Finished runs kept in memory for `runs.wait` (older ones are answered from their run record). */
const RECENT_RUNS = 200;
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
      const nameOf = storeNames(store);
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
  events.publish(e as DaemonEvent);
}

class RunTracker {
  private readonly runs = new Map<string, Promise<RunSummary>>();

  add(runId: string, done: Promise<RunSummary>): void {
    this.runs.set(runId, done);
    done.catch(() => undefined);
    while (this.runs.size > RECENT_RUNS) {
      const oldest = this.runs.keys().next().value;
      if (oldest === undefined) break;
      this.runs.delete(oldest);
    }
  }

  get(runId: string): Promise<RunSummary> | undefined {
    return this.runs.get(runId);
  }

  async settled(ms: number): Promise<void> {
    await Promise.race([Promise.allSettled([...this.runs.values()]), new Promise((r) => setTimeout(r, ms).unref())]);
  }
}

/** A run's outcome on the wire, from its live result or its stored record (same fields). */
function summarize(r: RunResult | RunRecord, nameOf: NameOf): RunSummary {
  const s: RunSummary = {
    runId: r.runId,
    script: r.script,
    status: r.status,
    sessionId: r.sessionId ?? null,
    sessionStatus: r.sessionStatus ?? null,
    ops: r.ops,
    bundles: r.bundles,
    skips: r.skips.map((k) => ({ binding: k.binding, error: { type: k.error.type, message: nameIdsIn(k.error.message, nameOf) } })),
  };
  if (r.error) s.error = { type: r.error.type, message: nameIdsIn(r.error.message, nameOf), file: r.error.file, line: r.error.line };
  return s;
}

async function recordOf(rt: ScriptRuntime, runId: string): Promise<RunRecord> {
  const r = await rt.runRecord(runId);
  if (!r) {
    const going = rt.running().some((x) => x.runId === runId);
    throw new EntityNotFound(
      going ? `run ${runId} is still going: its record is written when it ends (runs.wait waits for it)` : `no run ${runId} (\`openprod runs\` lists the recorded runs)`,
      { runId, running: going },
    );
  }
  return r;
}

async function sessionOf(rt: ScriptRuntime, id: string): Promise<SessionSummary> {
  const all = await rt.sessions();
  const s = all.find((x) => x.id === id);
  if (!s) {
    throw new EntityNotFound(`no open session ${id} (open: ${all.map((x) => x.id).slice(0, 5).join(", ") || "none"}; \`openprod sessions\` lists them)`, { session: id });
  }
  return s;
}

function sessionInfo(s: SessionSummary): SessionInfo {
  return { id: s.id, script: s.scriptId, runId: s.runId, isolation: s.isolation, ops: s.ops.length, conflicts: s.conflicts.filter((c) => c.resolution === undefined).length };
}

/** One overlay op in a person's words; for field writes the canonical value it would replace. */
/** A session's ops for review: each with the entity's name, no-op writes flagged, created entities with their final values. */
function describeOps(store: WorkspaceStore, ops: readonly Operation[]): SessionChange[] {
  const created = new Map<string, { tables: Record<string, unknown>; values: Record<string, FieldValue> }>();
  for (const op of ops) {
    if (op.op === "CreateEntity" && op.id !== undefined) created.set(op.id, { tables: Object.fromEntries((op.tables ?? []).map((t) => [t, {}])), values: { ...(op.fields ?? {}) } });
    else if (op.op === "SetField") {
      const c = created.get(op.id);
      if (c) c.values[op.field] = op.value;
    }
  }
  const nameOf = (id: string | null): string | undefined => {
    if (id === null) return undefined;
    const c = created.get(id);
    if (c) return entityName({ id, tables: c.tables, fields: c.values }, store.schema);
    try {
      const e = store.getEntity(id);
      return entityName(e, store.schema);
    } catch (e) {
      if (e instanceof EntityNotFound) return undefined;
      throw e;
    }
  };
  return ops.map((op) => {
    const d = describeOp(store, op);
    const name = nameOf(d.entity);
    if (op.op === "CreateEntity" && d.entity !== null) return { ...d, name, values: created.get(d.entity)?.values ?? {} };
    if (op.op === "SetField") {
      const inCreated = created.has(op.id);
      return { ...d, name, noop: !inCreated && JSON.stringify(d.old) === JSON.stringify(d.new) };
    }
    return name === undefined ? d : { ...d, name };
  });
}

function describeOp(store: WorkspaceStore, op: Operation): SessionChange {
  const base = { op: op.op, entity: null, field: null, old: null, new: null };
  switch (op.op) {
    case "SetField": {
      let field = op.field;
      let old: FieldValue = null;
      if (store.entityExists(op.id)) {
        try {
          field = store.resolveField(op.field, store.facetsOf(op.id)).key;
          old = store.getField(op.id, op.field);
        } catch {
          // A field the entity does not carry yet: nothing to replace.
        }
      }
      return { ...base, entity: op.id, field, old, new: op.value, summary: `${op.id} ${field}: ${show(old)} → ${show(op.value)}` };
    }
    case "CreateEntity":
      return { ...base, entity: op.id ?? null, new: op.fields ?? null, summary: `create ${op.id ?? "entity"} in ${(op.tables ?? []).join(", ") || "no table"}${op.fields ? ` with ${Object.keys(op.fields).join(", ")}` : ""}` };
    case "DeleteEntity":
      return { ...base, entity: op.id, summary: `delete ${op.id}` };
    default: {
      const rest = { ...op } as Record<string, unknown>;
      delete rest.op;
      const entity = typeof rest.id === "string" ? rest.id : typeof rest.source === "string" ? rest.source : null;
      return { ...base, entity, summary: `${op.op} ${JSON.stringify(rest)}` };
    }
  }
}

function show(v: unknown): string {
  return v === null || v === undefined ? "(unset)" : JSON.stringify(v);
}

/** Every script of the show (configured or found in workspace/scripts/), with its settings or why it cannot load. */
export async function listScripts(show: ShowConfig, catalog: ScriptCatalog): Promise<{ scripts: ScriptInfo[] }> {
  const ids = new Set(configuredScriptIds(show));
  const userDir = path.join(show.dir.root, "workspace", "scripts");
  const configured = new Set(ids);
  for (const f of fs.existsSync(userDir) ? fs.readdirSync(userDir) : []) if (f.endsWith(".lua")) ids.add(f.slice(0, -4));
  const out: ScriptInfo[] = [];
  for (const id of [...ids].sort()) {
    const slash = id.indexOf("/");
    const info: ScriptInfo = { id, file: "", module: slash > 0 ? id.slice(0, slash) : null, configured: configured.has(id), description: "", capabilities: [] };
    try {
      const s = await catalog.load(id);
      Object.assign(info, {
        file: path.relative(show.dir.root, s.file),
        description: s.config.description,
        executionMode: s.config.executionMode,
        mode: s.config.mode,
        onError: s.config.onError,
        isolation: s.config.isolation,
        capabilities: s.config.capabilities,
        args: s.config.args,
        hash: s.hash,
      });
    } catch (e) {
      info.error = (e as Error).message;
    }
    out.push(info);
  }
  return { scripts: out };
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
