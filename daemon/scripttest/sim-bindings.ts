/**
 * The test file's bindings for runs it starts and leaves running (script.start: listeners) and
 * for the simulated world they talk to: OSC, MIDI and HTTP. Each feeding call returns once the
 * run it fed went quiet (waits for input again, sleeps or ended) and the triggers it caused
 * ran, so the next line of the test sees the effects.
 */
import { InvalidOperation } from "../crdt/index.ts";
import type { HostBinding, HostValue } from "../scripts/engine/index.ts";
import type { FsEvent } from "../scripts/fs/index.ts";
import type { RunResult, RunStart } from "../scripts/runtime/index.ts";
import type { ScratchWorkspace } from "./scratch.ts";
import type { ShowFiles, SimAnswer, SimRequest, SimResponse } from "./sim/index.ts";
import { hostValue } from "./session-view.ts";
import { fieldValue, isObj, num, runOptions, shortFields } from "./test-values.ts";

export interface SimBindingDeps {
  current: () => ScratchWorkspace;
  outcome: (w: ScratchWorkspace, r: RunResult) => Promise<HostValue>;
  files: ShowFiles;
}

const sync = (fn: (args: HostValue[]) => HostValue | Promise<HostValue>): HostBinding => ({ kind: "sync", fn });

function listOf(v: HostValue | undefined, what: string): HostValue[] {
  if (v === null || v === undefined) return [];
  if (Array.isArray(v)) return v;
  if (isObj(v) && Object.keys(v).length === 0) return [];
  throw new InvalidOperation(`${what} must be a list like { 7, "go" }`, {});
}

function responseOf(v: HostValue | undefined): SimResponse {
  if (typeof v === "string") return { status: 200, body: v, headers: {}, delayMs: 0 };
  if (!isObj(v)) throw new InvalidOperation(`sim.http.respond: the response must be a body string or { status = 200, body = "...", headers = {...}, json = {...}, delay = ms } (got ${JSON.stringify(v ?? null)})`, {});
  const status = num(v.status) ?? 200;
  if (!Number.isInteger(status) || status < 100 || status > 599) throw new InvalidOperation(`sim.http.respond: status must be an integer 100-599 (got ${status})`, {});
  const headers: Record<string, string> = {};
  if (isObj(v.headers)) for (const [k, x] of Object.entries(v.headers)) headers[k] = String(num(x) ?? x);
  let body = "";
  if (v.json !== undefined && v.json !== null) {
    body = JSON.stringify(plain(v.json));
    headers["content-type"] ??= "application/json";
  } else if (typeof v.body === "string") body = v.body;
  else if (v.body !== undefined && v.body !== null) throw new InvalidOperation("sim.http.respond: body must be a string (json = {...} sends a table as JSON)", {});
  const delayMs = num(v.delay) ?? 0;
  if (!(delayMs >= 0)) throw new InvalidOperation(`sim.http.respond: delay must be a number of ms >= 0 (got ${JSON.stringify(v.delay)})`, {});
  return { status, body, headers, delayMs };
}

/** sim.http.request's `req`: a path, or { method =, path =, headers =, body =, json = }. */
function requestOf(v: HostValue | undefined): SimRequest {
  const what = 'sim.http.request(port, req): req must be a path like "/status" or { method = "POST", path = "/go", headers = {...}, body = "..." | json = {...} }';
  if (typeof v === "string") v = { path: v };
  if (!isObj(v)) throw new InvalidOperation(`${what} (got ${JSON.stringify(v ?? null)})`, {});
  const method = v.method === undefined || v.method === null ? "GET" : String(v.method).toUpperCase();
  if (!/^[A-Z]+$/.test(method)) throw new InvalidOperation(`sim.http.request: method must be a word like "GET" or "POST" (got ${JSON.stringify(v.method)})`, {});
  const path = v.path === undefined || v.path === null ? "/" : v.path;
  if (typeof path !== "string" || !path.startsWith("/")) throw new InvalidOperation(`sim.http.request: path must start with "/" (got ${JSON.stringify(path)})`, {});
  const headers: Record<string, string> = {};
  if (v.headers !== undefined && v.headers !== null) {
    if (!isObj(v.headers)) throw new InvalidOperation("sim.http.request: headers must be a table of name = value", {});
    for (const [k, x] of Object.entries(v.headers)) headers[k.toLowerCase()] = String(num(x) ?? x);
  }
  let body = "";
  if (v.json !== undefined && v.json !== null) {
    body = JSON.stringify(plain(v.json));
    headers["content-type"] ??= "application/json";
  } else if (typeof v.body === "string") body = v.body;
  else if (v.body !== undefined && v.body !== null) throw new InvalidOperation("sim.http.request: body must be a string (json = {...} sends a table as JSON)", {});
  return { method, path, headers, body };
}

/** A JSON answer's body decoded (`res.json`), so a test need not parse it; undefined otherwise. */
function jsonBody(a: SimAnswer): unknown {
  if (!/\bjson\b/i.test(a.headers["content-type"] ?? "")) return undefined;
  try {
    return JSON.parse(a.body) as unknown;
  } catch {
    return undefined; // the body stays there to be read as text
  }
}

/** The text a live client gets when the serving run ends before answering (PendingRequest.close). */
const SERVER_STOPPED = "the script serving this port stopped\n";

function plain(v: HostValue): unknown {
  const n = num(v);
  if (n !== null) return n;
  if (Array.isArray(v)) return v.map(plain);
  if (isObj(v)) return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, plain(x)]));
  return v;
}

function byte(v: HostValue | undefined, what: string, lo: number, hi: number): number {
  const n = num(v);
  if (n === null || !Number.isInteger(n) || n < lo || n > hi) throw new InvalidOperation(`sim.midi: ${what} must be an integer ${lo}-${hi} (got ${JSON.stringify(v ?? null)})`, {});
  return n;
}

export function simBindings(deps: SimBindingDeps): Record<string, HostBinding> {
  const { current } = deps;
  /** Runs script.start left going, by run id (of the current test). */
  const started = new Map<string, RunStart>();
  const startOf = (id: HostValue | undefined): RunStart => {
    const s = started.get(String(id));
    if (!s) throw new InvalidOperation(`no run ${String(id)} started by this test (script.start)`, {});
    return s;
  };
  const ended = async (w: ScratchWorkspace, s: RunStart): Promise<HostValue> => {
    const r = await s.done;
    await w.settle();
    started.delete(s.runId);
    return deps.outcome(w, r);
  };
  /** After feeding a run: until it went quiet, then until the triggers it caused ran. */
  const fed = async (w: ScratchWorkspace, runId: string | null): Promise<void> => {
    await w.world.quiet.until(runId);
    await w.settle();
  };

  /** The runs watching a changed file hear of it now; the call returns once each went quiet again. */
  const watched = async (w: ScratchWorkspace, e: FsEvent | null): Promise<void> => {
    if (e === null) return;
    const runs = w.world.files.changed(e);
    await Promise.all(runs.map((id) => w.world.quiet.until(id)));
    await w.settle();
  };

  return {
    "__t.script_start": sync(async ([name, args, opts]) => {
      const w = current();
      const s = w.runtime.run(String(name), { ...runOptions(opts ?? null), args: isObj(args) ? args : {}, user: "openprod-test" });
      started.set(s.runId, s);
      // Until it is ready: listening (its first recv), sleeping, or ended.
      await w.world.quiet.until(s.runId);
      return hostValue({ run_id: s.runId });
    }),
    "__t.script_wait": sync(async ([id]) => {
      const w = current();
      const s = startOf(id);
      return w.waitFor(() => ended(w, s), s.runId);
    }),
    "__t.script_stop": sync(async ([id]) => {
      const w = current();
      const s = startOf(id);
      s.cancel("the test stopped it");
      return ended(w, s);
    }),
    "__t.osc_send": sync(async ([port, path, args]) => {
      const w = current();
      const p = num(port);
      if (p === null) throw new InvalidOperation(`sim.osc.send(port, path, args): port must be a number (got ${JSON.stringify(port ?? null)})`, {});
      const runId = w.world.osc.send(p, String(path), listOf(args, "sim.osc.send: args"));
      await fed(w, runId);
      return null;
    }),
    "__t.osc_sent": sync(() => hostValue(current().world.osc.sent())),
    "__t.midi_play": sync(async ([name, what, channel, a, b]) => {
      const w = current();
      const list =
        what === "note_on" || what === "note_off" || what === "cc"
          ? midiBytes(what, channel ?? null, a ?? null, b ?? null)
          : listOf(what, "sim.midi: the message").map((x, i) => byte(x, `byte ${i + 1}`, 0, 255));
      if (list.length === 0) throw new InvalidOperation("sim.midi: a message needs at least a status byte", {});
      if (w.world.midi.play(String(name), list) === 0) {
        throw new InvalidOperation(`sim.midi.input("${String(name)}"): no script has that MIDI input open (inputs: ${w.world.midi.listInputs().join(", ") || "none"})`, { input: String(name) });
      }
      await fed(w, null);
      return null;
    }),
    "__t.midi_sent": sync(([name]) => hostValue(current().world.midi.sent(typeof name === "string" ? name : undefined))),
    "__t.http_respond": sync(([pattern, response]) => {
      current().world.http.respond(String(pattern), responseOf(response));
      return null;
    }),
    "__t.http_requests": sync(() => hostValue(current().world.http.requests())),
    "__t.http_request": sync(async ([port, req]) => {
      const w = current();
      const p = num(port);
      if (p === null || !Number.isInteger(p)) throw new InvalidOperation(`sim.http.request(port, req): port must be a number (got ${JSON.stringify(port ?? null)})`, {});
      const { http, clock } = w.world;
      const ex = http.request(p, requestOf(req));
      // Virtual time moves for the serving run while the test waits (a handler's core.sleep);
      // when it goes back to waiting for requests without answering, time runs on to the
      // answer deadline (504), as it would for a real client that waits.
      let answer: SimAnswer = await w.waitFor(async () => {
        for (;;) {
          const idle = http.nextIdle(ex.runId).then(() => null);
          const a = await Promise.race([ex.answer, idle]);
          if (a !== null) return a;
          if (!ex.answered) await clock.advance(Math.max(0, ex.deadline - clock.now()));
        }
      }, ex.runId);
      await w.settle();
      // The handler failed: the test is told why (a live client only sees 503 and the run record has it).
      const s = started.get(ex.runId);
      if (s && answer.status === 503 && answer.body === SERVER_STOPPED) {
        const r = await s.done;
        if (r.status === "error" && r.error) {
          const e = r.error;
          const at = e.file && !e.message.startsWith(e.file) ? `${e.file}${e.line ? `:${e.line}` : ""}: ` : "";
          answer = { status: 500, headers: { "content-type": "text/plain; charset=utf-8" }, body: `the script serving HTTP port ${p} failed: ${e.type}: ${at}${e.message}\n` };
        }
      }
      return hostValue({ ...answer, json: jsonBody(answer) });
    }),
    "__t.fs_write": sync(async ([rel, content]) => {
      const w = current();
      if (typeof content !== "string") throw new InvalidOperation(`sim.fs.write(path, content): content must be a string (got ${typeof content})`, {});
      await watched(w, await deps.files.write(String(rel), content));
      return null;
    }),
    "__t.fs_remove": sync(async ([rel]) => {
      const w = current();
      await watched(w, await deps.files.remove(String(rel)));
      return null;
    }),
    "__t.fs_read": sync(([rel]) => deps.files.read(String(rel))),
    "__t.peer_sync": sync(async () => {
      const w = current();
      const peer = await w.peer();
      await w.waitFor(async () => {
        await peer.sync();
        await w.settle();
      });
      return null;
    }),
    "__t.peer_edit": sync(async ([id, field, value]) => {
      const w = current();
      const peer = await w.peer();
      await w.waitFor(async () => {
        await peer.edit([{ op: "SetField", id: String(id), field: String(field), value: fieldValue(value ?? null) }], "someone at another peer");
        await w.settle();
      });
      return null;
    }),
    "__t.peer_get": sync(async ([id]) => {
      const peer = await current().peer();
      const e = peer.store.getEntity(String(id));
      return hostValue({ ...shortFields(e.fields), id: e.id });
    }),
    "__t.conflicts": sync(() => {
      const w = current();
      return hostValue({ fields: w.store.conflicts(), bulk: w.store.bulkConflicts() });
    }),
    "__t.spy_on": sync(([path, stub, value]) => {
      current().world.spies.on(String(path), stub === true, value ?? null);
      return null;
    }),
    "__t.spy_calls": sync(([path]) => current().world.spies.calls(String(path))),
  };
}

/** A MIDI channel message's bytes from what sim.midi.input(name):note_on(...) was given. */
function midiBytes(kind: "note_on" | "note_off" | "cc", channel: HostValue, a: HostValue, b: HostValue): number[] {
  const ch = byte(channel, "channel", 1, 16) - 1;
  const status = kind === "note_on" ? 0x90 : kind === "note_off" ? 0x80 : 0xb0;
  return [status | ch, byte(a, kind === "cc" ? "controller" : "note", 0, 127), byte(b ?? 0, kind === "cc" ? "value" : "velocity", 0, 127)];
}
