/**
 * `debug.start` / `debug.wait`: debugging sessions of the show's scripts (openprod debug).
 * The socket that asks is owner-only, and so is every way into a session it opens (see
 * daemon/scripts/debug/dap-server.ts). A launched session runs the script when its client
 * sends `launch`; an attaching one gives the script's next run (a trigger's, a person's) to
 * the debugger, which that run waits for. Runs keep their session overlay for review.
 */
import { EntityNotFound, InvalidOperation } from "../crdt/vocabulary.ts";
import { checkScriptArgs } from "../config/index.ts";
import { DapServer, DebugSession, sessionSocketPath } from "../scripts/debug/index.ts";
import type { DebugRunEnd, DebuggedRun } from "../scripts/debug/index.ts";
import type { DebugLink } from "../scripts/engine/index.ts";
import type { RunRecord, RunResult, RuntimeEvent, ScriptCatalog, ScriptRuntime } from "../scripts/runtime/index.ts";
import type { DebugEnd, DebugStarted } from "../../protocol/index.ts";
import type { MethodRegistry } from "./method-registry.ts";
import { bool, int, nonEmpty, obj, opt, record, value } from "./params.ts";

/** How long a session's ports stay open after its run ended, for the client to read the end. */
const LINGER_MS = 2000;

interface Entry {
  id: string;
  session: DebugSession;
  server: DapServer;
  script: string;
  ended: Promise<DebugEnd>;
}

export class DebugSessions {
  private readonly entries = new Map<string, Entry>();
  private readonly attaching = new Map<string, { entry: Entry; bind: (runId: string) => void }>();
  private readonly byRun = new Map<string, DebugSession>();
  private readonly finishing = new Map<string, (r: RunResult | RunRecord) => void>();
  private next = 1;

  constructor(private readonly showDir: string) {}

  /** Runtime hook (ScriptRuntimeOptions.debugger): the run a session attaches to. */
  debuggerFor(run: { runId: string; script: string }): DebugLink | undefined {
    const a = this.attaching.get(run.script);
    if (!a) return undefined;
    this.attaching.delete(run.script);
    const link = a.entry.session.attachTarget();
    this.byRun.set(run.runId, a.entry.session);
    a.bind(run.runId);
    return link;
  }

  /** Runtime events: a debugged run's log lines go to its debug console; its end ends the session. */
  observe(e: RuntimeEvent, rt: ScriptRuntime): void {
    if (e.type === "log") this.byRun.get(e.runId)?.output(`${e.message}\n`, e.level === "error" || e.level === "warn" ? "stderr" : "stdout");
    if (e.type === "run.finished" && this.finishing.has(e.runId)) {
      const done = this.finishing.get(e.runId);
      this.finishing.delete(e.runId);
      void rt.runRecord(e.runId).then((r) => r && done?.(r));
    }
  }

  register(methods: MethodRegistry, rt: ScriptRuntime, scripts: () => ScriptCatalog): void {
    methods.register(
      "debug.start",
      obj({ script: nonEmpty, args: opt(record(value)), attach: opt(bool), port: opt(int(0, 65535)), wallLimitMs: opt(int(1000)), user: opt(nonEmpty) }),
      async (p, call): Promise<DebugStarted> => {
        const loaded = await scripts().load(p.script);
        const problem = await rt.check(p.script);
        if (problem) throw new InvalidOperation(`${problem.file}:${problem.line}:${problem.column}: ${problem.message}; fix the file and debug again`, { script: p.script, file: problem.file, line: problem.line });
        const attach = p.attach === true;
        if (attach && this.attaching.has(p.script)) throw new InvalidOperation(`a debugger already waits for the next run of ${p.script}`, { script: p.script });
        const args = attach ? {} : checkScriptArgs(p.script, loaded.config.args, p.args ?? {});
        const user = p.user ?? call.clientName;
        const id = `debug-${this.next++}`;
        let endWith: (e: DebugEnd) => void = () => undefined;
        const ended = new Promise<DebugEnd>((resolve) => (endWith = resolve));
        const session: DebugSession = new DebugSession({
          showDir: this.showDir,
          mainChunk: loaded.chunkName,
          mode: attach ? "attach" : "launch",
          wallLimitMs: p.wallLimitMs ?? loaded.config.debugWallLimitMs,
          launch: attach ? undefined : (link): DebuggedRun => this.launch(rt, p.script, args, user, link, session),
          onEnd: (end) => endWith({ id, runId: session.runId ?? "", ...end }),
        });
        const server = await DapServer.listen(session, { port: p.port ?? 0, socketPath: sessionSocketPath(this.showDir, this.next - 1) });
        const entry: Entry = { id, session, server, script: p.script, ended };
        this.entries.set(id, entry);
        void ended.then(() => setTimeout(() => void this.drop(entry), LINGER_MS).unref());
        if (attach) {
          this.attaching.set(p.script, {
            entry,
            bind: (runId) => {
              this.finishing.set(runId, (r) => this.ended(session, r));
              session.runStarted({ runId, done: this.endOf(session), stop: () => void rt.cancel(runId, "stopped by the debugger", { keepOverlay: true }).catch(() => undefined) });
            },
          });
        }
        return { id, port: server.port, socket: server.socketPath, mode: attach ? "attach" : "launch" };
      },
    );

    methods.register("debug.wait", obj({ id: nonEmpty }), async (p): Promise<DebugEnd> => {
      const e = this.entries.get(p.id);
      if (!e) throw new EntityNotFound(`no debugging session ${p.id} (it ended, or the daemon restarted)`, { id: p.id });
      return e.ended;
    });
  }

  async close(): Promise<void> {
    await Promise.all([...this.entries.values()].map((e) => this.drop(e)));
  }

  private launch(rt: ScriptRuntime, script: string, args: Record<string, unknown>, user: string, link: DebugLink, session: DebugSession): DebuggedRun {
    const start = rt.run(script, { args, user, debug: link });
    this.byRun.set(start.runId, session);
    return {
      runId: start.runId,
      done: start.done.then((r) => endLines(r)),
      stop: () => start.cancel("stopped by the debugger", undefined, { keepOverlay: true }),
    };
  }

  private readonly pendingEnds = new Map<DebugSession, (end: DebugRunEnd) => void>();

  private endOf(session: DebugSession): Promise<DebugRunEnd> {
    return new Promise((resolve) => this.pendingEnds.set(session, resolve));
  }

  private ended(session: DebugSession, r: RunResult | RunRecord): void {
    const done = this.pendingEnds.get(session);
    this.pendingEnds.delete(session);
    done?.(endLines(r));
  }

  private async drop(e: Entry): Promise<void> {
    if (!this.entries.delete(e.id)) return;
    if (this.attaching.get(e.script)?.entry === e) this.attaching.delete(e.script);
    for (const [runId, s] of this.byRun) if (s === e.session) this.byRun.delete(runId);
    await e.server.close();
  }
}

/** The end of a run as the debug console and the CLI tell it, with how to keep or drop its changes. */
function endLines(r: RunResult | RunRecord): DebugRunEnd {
  const lines = [`run ${r.runId}: ${r.status}, ${r.ops} op(s)`];
  if (r.error) lines.push(`${r.error.type}: ${r.error.file ? `${r.error.file}${r.error.line ? `:${r.error.line}` : ""}: ` : ""}${r.error.message}`);
  if (r.sessionId && r.sessionStatus === "open") {
    lines.push(`session ${r.sessionId} is open for review: openprod session show ${r.sessionId}, then openprod session commit ${r.sessionId} to keep its changes or openprod session discard ${r.sessionId} to drop them`);
  } else if (r.sessionId) lines.push(`session ${r.sessionId}: ${r.sessionStatus ?? "closed"}`);
  return { status: r.status, summary: lines, ...(r.sessionId ? { sessionId: r.sessionId } : {}) };
}
