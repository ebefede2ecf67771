/**
 * One debugging session: a script's run under the debugger and the DAP client driving it.
 * Breakpoints and exception filters live here, so a client may set them before the run
 * exists (attach mode: the run starts when a trigger fires) and they reach the run's agent
 * as soon as it does. Source paths are the show directory's real files.
 */
import fs from "node:fs";
import path from "node:path";
import type { DebugLink, StepKind } from "../engine/index.ts";
import type { AgentFrame, AgentScopes, AgentVariable } from "../engine/index.ts";
import type { HostValue } from "../engine/index.ts";
import { AgentRequestError, DebugTarget } from "./debug-target.ts";
import type { AgentEvent } from "./debug-target.ts";
import { CAPABILITIES } from "./dap-types.ts";
import type { DapEvent, DapMessage, DapRequest, DapResponse, DapStackFrame, DapVariable, SourceBreakpoint } from "./dap-types.ts";

/** How a debugged run ended, as the session tells the client and the CLI. */
export interface DebugRunEnd {
  status: string;
  /** Lines for the debug console: the outcome, and how to commit or discard the run's session. */
  summary: string[];
  /** The run's session overlay, when it has one. */
  sessionId?: string;
}

/** A run the session debugs. */
export interface DebuggedRun {
  runId: string;
  done: Promise<DebugRunEnd>;
  /** The client asked to terminate: stop the run (its overlay is kept for review). */
  stop(): void;
}

export interface DebugSessionOptions {
  showDir: string;
  /** The script's chunk name (show-relative path): its frames carry "=" + this as source. */
  mainChunk: string;
  mode: "launch" | "attach";
  /** Launch mode: starts the run with the agent's link. */
  launch?: (link: DebugLink) => DebuggedRun;
  /** The debugging wall-clock limit: past it the run is stopped, paused or not. */
  wallLimitMs: number;
  /** The run ended and the client was told. */
  onEnd?: (end: DebugRunEnd) => void;
}

/** The client side of one connection. */
export interface DapConnection {
  send(m: DapMessage): void;
  close(): void;
}

/** A request the client got wrong: answered with success = false and this message. */
class RequestError extends Error {}

export class DebugSession {
  private conn: DapConnection | null = null;
  private seq = 1;
  private target: DebugTarget | null = null;
  private run: DebuggedRun | null = null;
  private readonly breakpoints = new Map<string, SourceBreakpoint[]>();
  private exceptions = { caught: false, uncaught: true };
  private configured = false;
  private evaluateWrites = false;
  private ended: DebugRunEnd | null = null;
  private wallTimer: NodeJS.Timeout | null = null;
  private showReal: string;

  constructor(private readonly opts: DebugSessionOptions) {
    this.showReal = realpath(opts.showDir);
  }

  get runId(): string | null {
    return this.run?.runId ?? null;
  }

  /** A client connected; a second one while the first is there is turned away. */
  connect(conn: DapConnection): boolean {
    if (this.conn !== null) return false;
    this.conn = conn;
    return true;
  }

  /** The client's connection closed: a launched run is stopped, an attached one goes on alone. */
  disconnected(conn: DapConnection): void {
    if (this.conn !== conn) return;
    this.conn = null;
    if (this.ended !== null) return;
    void this.detach();
    if (this.opts.mode === "launch") this.run?.stop();
  }

  /** Attach mode: the run about to start gets this link; its agent waits for configurationDone. */
  attachTarget(): DebugLink {
    const t = this.newTarget();
    return t.link;
  }

  /** The run the target belongs to started. */
  runStarted(run: DebuggedRun): void {
    this.run = run;
    this.wallTimer = setTimeout(() => {
      this.output(`the debugging wall-clock limit of ${Math.round(this.opts.wallLimitMs / 1000)} s is reached: stopping the run\n`, "important");
      void this.detach().then(() => run.stop());
    }, this.opts.wallLimitMs);
    this.wallTimer.unref();
    void run.done.then((end) => this.finish(end));
  }

  /** Script output (log lines, print) for the client's debug console. */
  output(text: string, category: "stdout" | "console" | "important" | "stderr" = "stdout"): void {
    this.event("output", { category, output: text });
  }

  /** One message from the client. */
  receive(m: DapMessage): void {
    if (m.type !== "request") return;
    void this.serve(m);
  }

  /** A framing or shape problem the client should see. */
  protocolError(message: string): void {
    this.event("output", { category: "stderr", output: `openprod debug: ${message}\n` });
  }

  private async serve(r: DapRequest): Promise<void> {
    try {
      const body = await this.answer(r.command, r.arguments ?? {});
      this.respond(r, true, body);
      if (r.command === "initialize") this.event("initialized");
      if (r.command === "disconnect") this.conn?.close();
    } catch (e) {
      const message = e instanceof Error ? e.message : String(e);
      this.respond(r, false, undefined, message);
    }
  }

  private async answer(command: string, a: Record<string, unknown>): Promise<unknown> {
    switch (command) {
      case "initialize":
        return CAPABILITIES;
      case "launch":
      case "attach":
        return this.start(command, a);
      case "setBreakpoints":
        return this.setBreakpoints(a);
      case "setExceptionBreakpoints": {
        const filters = stringList(a.filters, "setExceptionBreakpoints", "filters");
        for (const f of filters) if (f !== "error" && f !== "uncaught") throw new RequestError(`setExceptionBreakpoints: unknown filter "${f}" (this adapter has "error" and "uncaught")`);
        this.exceptions = { caught: filters.includes("error"), uncaught: filters.includes("uncaught") };
        await this.target?.request({ t: "exceptions", ...this.exceptions });
        return {};
      }
      case "configurationDone":
        this.configured = true;
        await this.target?.request({ t: "start" });
        return {};
      case "threads":
        return { threads: this.target ? ((await this.target.request({ t: "threads" })) as unknown as { id: number; name: string }[]) : [{ id: 1, name: "main" }] };
      case "stackTrace":
        return this.stackTrace(a);
      case "scopes":
        return this.scopes(a);
      case "variables": {
        const ref = int(a.variablesReference, "variables", "variablesReference");
        const list = (await this.agent().request({ t: "variables", ref, start: optInt(a.start, "variables", "start") ?? 0, count: optInt(a.count, "variables", "count") ?? 0 })) as unknown as AgentVariable[];
        return { variables: asList(list).map(variable) };
      }
      case "evaluate": {
        const expression = str(a.expression, "evaluate", "expression");
        const frameId = optInt(a.frameId, "evaluate", "frameId") ?? null;
        const v = (await this.agent().request({ t: "evaluate", frameId, expression, writable: this.evaluateWrites })) as unknown as AgentVariable;
        return { result: v.value, type: v.type, variablesReference: v.ref };
      }
      case "setVariable": {
        const ref = int(a.variablesReference, "setVariable", "variablesReference");
        const v = (await this.agent().request({ t: "setVariable", ref, name: str(a.name, "setVariable", "name"), value: str(a.value, "setVariable", "value") })) as unknown as AgentVariable;
        return { value: v.value, type: v.type, variablesReference: v.ref };
      }
      case "continue":
        await this.agent().request({ t: "continue" });
        return { allThreadsContinued: true };
      case "next":
      case "stepIn":
      case "stepOut": {
        const kind: StepKind = command === "next" ? "next" : command === "stepIn" ? "in" : "out";
        await this.agent().request({ t: "step", kind, threadId: int(a.threadId, command, "threadId") });
        return {};
      }
      case "pause":
        await this.agent().pause();
        return {};
      case "terminate":
        await this.detach();
        this.run?.stop();
        return {};
      case "disconnect": {
        const terminate = typeof a.terminateDebuggee === "boolean" ? a.terminateDebuggee : this.opts.mode === "launch";
        await this.detach();
        if (terminate) this.run?.stop();
        return {};
      }
      default:
        throw new RequestError(`unknown request "${command}": this adapter answers ${KNOWN.join(", ")}`);
    }
  }

  private start(command: "launch" | "attach", a: Record<string, unknown>): Record<string, never> {
    if (command !== this.opts.mode) {
      throw new RequestError(
        this.opts.mode === "attach"
          ? `this session waits for the script's next run: send "attach", not "launch" (openprod debug --attach)`
          : `this session runs the script itself: send "launch", not "attach" (for the next triggered run, start openprod debug --attach)`,
      );
    }
    this.evaluateWrites = a.evaluateWrites === true;
    if (command === "launch") {
      if (this.run !== null || this.target !== null) throw new RequestError("launch: the script is already running under this session");
      const launch = this.opts.launch;
      if (!launch) throw new RequestError("launch: this session cannot start runs");
      const t = this.newTarget();
      this.runStarted(launch(t.link));
    }
    return {};
  }

  private newTarget(): DebugTarget {
    const t = new DebugTarget((e) => this.fromAgent(e));
    this.target = t;
    // What the client set before the run existed reaches its agent first (queued on the port).
    for (const [source, list] of this.breakpoints) void t.request({ t: "setBreakpoints", source, breakpoints: list }).catch(() => undefined);
    void t.request({ t: "exceptions", ...this.exceptions }).catch(() => undefined);
    if (this.configured) void t.request({ t: "start" }).catch(() => undefined);
    return t;
  }

  private async setBreakpoints(a: Record<string, unknown>): Promise<unknown> {
    const src = a.source as { path?: unknown } | undefined;
    if (!src || typeof src.path !== "string") throw new RequestError(`setBreakpoints: "source.path" must be the script's file path`);
    const source = this.chunkSource(src.path);
    const given = Array.isArray(a.breakpoints) ? (a.breakpoints as unknown[]) : [];
    const list: SourceBreakpoint[] = given.map((b, i) => {
      const o = (b ?? {}) as Record<string, unknown>;
      const line = int(o.line, "setBreakpoints", `breakpoints[${i}].line`);
      const bp: SourceBreakpoint = { line };
      if (typeof o.condition === "string" && o.condition !== "") bp.condition = o.condition;
      if (typeof o.hitCondition === "string" && o.hitCondition !== "") bp.hitCondition = o.hitCondition;
      if (typeof o.logMessage === "string" && o.logMessage !== "") bp.logMessage = o.logMessage;
      return bp;
    });
    this.breakpoints.set(source, list);
    if (this.target === null || this.ended !== null) return { breakpoints: list.map((b) => ({ verified: true, line: b.line })) };
    const r = (await this.target.request({ t: "setBreakpoints", source, breakpoints: list })) as unknown as { id: number; line: number; verified: boolean; message?: string }[];
    return { breakpoints: asList(r).map((b) => ({ id: b.id, verified: b.verified, line: b.line, ...(b.message ? { message: b.message } : {}) })) };
  }

  private async stackTrace(a: Record<string, unknown>): Promise<unknown> {
    const threadId = int(a.threadId, "stackTrace", "threadId");
    const frames = asList((await this.agent().request({ t: "stack", threadId })) as unknown as AgentFrame[]);
    const start = optInt(a.startFrame, "stackTrace", "startFrame") ?? 0;
    const levels = optInt(a.levels, "stackTrace", "levels") ?? 0;
    const page = frames.slice(start, levels > 0 ? start + levels : undefined);
    return { stackFrames: page.map((f): DapStackFrame => ({ id: f.id, name: f.name, line: f.line, column: 1, source: this.dapSource(f.source) })), totalFrames: frames.length };
  }

  private async scopes(a: Record<string, unknown>): Promise<unknown> {
    const frameId = int(a.frameId, "scopes", "frameId");
    const s = (await this.agent().request({ t: "scopes", frameId })) as unknown as AgentScopes;
    const scopes = [
      { name: "Locals", presentationHint: "locals", variablesReference: s.locals, expensive: false },
      { name: "Upvalues", variablesReference: s.upvalues, expensive: false },
      { name: "Globals", presentationHint: "globals", variablesReference: s.globals, expensive: false },
    ];
    if (s.args > 0) scopes.push({ name: "args", presentationHint: "arguments", variablesReference: s.args, expensive: false });
    return { scopes };
  }

  private fromAgent(e: AgentEvent): void {
    switch (e.t) {
      case "stopped":
        this.event("stopped", {
          reason: e.reason,
          threadId: e.threadId,
          allThreadsStopped: true,
          ...(e.description ? { description: e.description } : {}),
          ...(e.text ? { text: e.text } : {}),
          ...(e.breakpointIds ? { hitBreakpointIds: e.breakpointIds } : {}),
        });
        return;
      case "output":
        this.output(e.text, "console");
        return;
      case "continued":
        return;
    }
  }

  /** Breakpoints and filters off, and the run on its way: nothing will stop it again. */
  private async detach(): Promise<void> {
    const t = this.target;
    if (t === null || this.ended !== null) return;
    const sources = [...this.breakpoints.keys()];
    this.breakpoints.clear();
    try {
      for (const source of sources) await t.request({ t: "setBreakpoints", source, breakpoints: [] });
      await t.request({ t: "exceptions", caught: false, uncaught: false });
      await t.request({ t: "start" });
      await t.request({ t: "continue" });
    } catch (e) {
      if (!(e instanceof AgentRequestError)) throw e;
    }
  }

  private finish(end: DebugRunEnd): void {
    this.ended = end;
    if (this.wallTimer) clearTimeout(this.wallTimer);
    this.target?.close();
    for (const line of end.summary) this.output(line + "\n", "console");
    this.event("terminated");
    this.event("exited", { exitCode: end.status === "ok" ? 0 : 1 });
    this.opts.onEnd?.(end);
  }

  private agent(): DebugTarget {
    if (this.target === null) throw new RequestError(this.opts.mode === "attach" ? "the script has not started yet: the debugger waits for its next run" : "the script is not running yet: send launch first");
    if (this.ended !== null) throw new RequestError(`the run has ended (${this.ended.status})`);
    return this.target;
  }

  /** An editor's file path → the chunk source its functions carry. */
  private chunkSource(file: string): string {
    const rel = path.relative(this.showReal, realpath(path.resolve(this.opts.showDir, file))).split(path.sep).join("/");
    if (rel.startsWith("..") || path.isAbsolute(rel)) throw new RequestError(`setBreakpoints: ${file} is not a file of the show at ${this.opts.showDir}`);
    return rel === this.opts.mainChunk ? "=" + rel : "@" + rel;
  }

  private dapSource(chunkSource: string): { name: string; path: string } {
    const rel = chunkSource.slice(1);
    return { name: path.basename(rel), path: path.join(this.opts.showDir, rel) };
  }

  private respond(r: DapRequest, success: boolean, body?: unknown, message?: string): void {
    const m: DapResponse = { seq: this.seq++, type: "response", request_seq: r.seq, success, command: r.command };
    if (message !== undefined) m.message = message;
    if (body !== undefined) m.body = body;
    this.conn?.send(m);
  }

  private event(event: string, body?: unknown): void {
    const m: DapEvent = { seq: this.seq++, type: "event", event };
    if (body !== undefined) m.body = body;
    this.conn?.send(m);
  }
}

const KNOWN = [
  "initialize", "launch", "attach", "setBreakpoints", "setExceptionBreakpoints", "configurationDone", "threads", "stackTrace", "scopes",
  "variables", "evaluate", "setVariable", "continue", "next", "stepIn", "stepOut", "pause", "terminate", "disconnect",
];

function variable(v: AgentVariable): DapVariable {
  return { name: v.name, value: v.value, type: v.type, variablesReference: v.ref, ...(v.ref > 0 ? { namedVariables: v.count } : {}) };
}

/** An empty Lua table reads as {}: a list either way. */
function asList<T>(v: T[] | HostValue): T[] {
  return Array.isArray(v) ? (v as T[]) : [];
}

function realpath(p: string): string {
  try {
    return fs.realpathSync(p);
  } catch {
    return p;
  }
}

function int(v: unknown, command: string, field: string): number {
  if (typeof v !== "number" || !Number.isInteger(v)) throw new RequestError(`${command}: "${field}" must be a whole number, got ${JSON.stringify(v)}`);
  return v;
}

function optInt(v: unknown, command: string, field: string): number | undefined {
  return v === undefined || v === null ? undefined : int(v, command, field);
}

function str(v: unknown, command: string, field: string): string {
  if (typeof v !== "string") throw new RequestError(`${command}: "${field}" must be a string, got ${JSON.stringify(v)}`);
  return v;
}

function stringList(v: unknown, command: string, field: string): string[] {
  if (!Array.isArray(v) || v.some((x) => typeof x !== "string")) throw new RequestError(`${command}: "${field}" must be a list of strings`);
  return v as string[];
}
