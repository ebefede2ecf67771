/**
 * The console's state: one store, fed by the daemon's event stream and by
 * the answers to its requests. Components read these signals and call the
 * actions; none of them keeps its own copy of daemon state.
 */
import { batch, signal } from "@preact/signals";
import type { Client } from "../protocol/light.ts";
import type { DaemonEvent } from "../protocol/light.ts";
import type {
  BackgroundInfo,
  BulkConflict,
  ConflictRecord,
  DialogEvent,
  FieldValue,
  MethodName,
  ParamsOf,
  PeerInfo,
  ResultOf,
  SchemaResult,
  ScriptInfo,
  SessionInfo,
  StatusResult,
  TriggerSummary,
} from "../protocol/light.ts";
import { openWire } from "./wire.ts";
import type { Wire } from "./wire.ts";
import { navigateTo } from "./route.ts";
import { entityLabel as labelOf } from "./format.ts";

export interface LogLine {
  time: string;
  level: string;
  msg: string;
  runId?: string;
}

export interface ProgressView {
  label: string;
  current: number;
  total: number | null;
  done: boolean;
}

export interface RunView {
  runId: string;
  script: string;
  status: string;
  log: LogLine[];
  progress: ProgressView | null;
  sessionId: string | null;
  ops: number;
}

export interface Toast {
  id: number;
  level: "info" | "warn" | "error";
  message: string;
  source: string;
}

export const connection = signal<"connecting" | "open" | "closed">("connecting");
export const status = signal<StatusResult | null>(null);
export const schema = signal<SchemaResult | null>(null);
export const scripts = signal<ScriptInfo[]>([]);
export const runs = signal<RunView[]>([]);
export const dialogs = signal<DialogEvent[]>([]);
export const toasts = signal<Toast[]>([]);
export const sessions = signal<SessionInfo[]>([]);
export const conflicts = signal<{ conflicts: ConflictRecord[]; bulk: BulkConflict[] }>({ conflicts: [], bulk: [] });
export const triggers = signal<TriggerSummary[]>([]);
export const background = signal<BackgroundInfo[]>([]);
export const peers = signal<PeerInfo[]>([]);
export const logLines = signal<LogLine[]>([]);
/** Entities changed by the last bundles (views holding them refresh). */
export interface Changed {
  seq: number;
  entities: ReadonlySet<string>;
  /** New field values by entity (field key → value), for views that patch rows in place. */
  fields: ReadonlyMap<string, Record<string, FieldValue>>;
  /** Some change was not a field write (entity created/deleted, table, edge): lists may change shape. */
  structural: boolean;
}
export const changed = signal<Changed>({ seq: 0, entities: new Set(), fields: new Map(), structural: false });

const MAX_LOG = 500;
let wire: Wire | null = null;
let nextToast = 1;

export const NAME_KEY = "openprod.console.name";

/** Connects as `name` (kept in the browser); the daemon makes it actor `console:<name>`. */
export function start(name: string): void {
  if (wire) return;
  wire = openWire(name, refreshAll, onEvent, (s) => (connection.value = s));
}

function ready(): Promise<Client> {
  if (!wire) return Promise.reject(new Error("the console has not connected yet (no name given)"));
  return wire.ready();
}

/** A request; a failure becomes an error toast (and is rethrown for the caller that wants it). */
export async function call<M extends MethodName>(method: M, params: ParamsOf<M>): Promise<ResultOf<M>> {
  try {
    return (await (await ready()).call(method, params)) as ResultOf<M>;
  } catch (e) {
    toast("error", e instanceof Error ? e.message : String(e), "console");
    throw e;
  }
}

/** Same, quietly: the caller shows the error where it belongs (a query bar, a form). */
export async function ask<M extends MethodName>(method: M, params: ParamsOf<M>): Promise<ResultOf<M>> {
  return (await (await ready()).call(method, params)) as ResultOf<M>;
}

export function toast(level: Toast["level"], message: string, source: string): void {
  const t: Toast = { id: nextToast++, level, message, source };
  toasts.value = [...toasts.value, t].slice(-6);
  setTimeout(() => dismissToast(t.id), level === "error" ? 12_000 : 6000);
}

export function dismissToast(id: number): void {
  toasts.value = toasts.value.filter((t) => t.id !== id);
}

async function refreshAll(c: Client): Promise<void> {
  const [st, sc, scr, dl, ss, cf, tr, bg, pr] = await Promise.all([
    c.request("status"),
    c.request("schema"),
    c.request("scripts.list").catch(() => ({ scripts: [] })),
    c.request("dialog.list").catch(() => ({ dialogs: [] })),
    c.request("sessions.list").catch(() => ({ sessions: [] })),
    c.request("conflicts.list"),
    c.request("triggers.list").catch(() => ({ triggers: [] })),
    c.request("scripts.ps").catch(() => ({ scripts: [] })),
    c.request("peers.list"),
  ]);
  batch(() => {
    status.value = st;
    schema.value = sc;
    scripts.value = scr.scripts;
    dialogs.value = dl.dialogs;
    sessions.value = ss.sessions;
    conflicts.value = cf;
    triggers.value = tr.triggers;
    background.value = bg.scripts;
    peers.value = pr.peers;
  });
}

export async function refreshSessions(): Promise<void> {
  sessions.value = (await ask("sessions.list", {})).sessions;
}

export async function refreshConflicts(): Promise<void> {
  conflicts.value = await ask("conflicts.list", {});
}

async function refreshTriggers(): Promise<void> {
  triggers.value = (await ask("triggers.list", {})).triggers;
}

async function refreshBackground(): Promise<void> {
  background.value = (await ask("scripts.ps", {})).scripts;
}

async function refreshPeers(): Promise<void> {
  peers.value = (await ask("peers.list", {})).peers;
}

function updateRun(runId: string, script: string, f: (r: RunView) => RunView): void {
  const list = runs.value;
  const i = list.findIndex((r) => r.runId === runId);
  const base: RunView = i >= 0 ? list[i] : { runId, script, status: "running", log: [], progress: null, sessionId: null, ops: 0 };
  const next = f(base);
  runs.value = i >= 0 ? list.map((r, j) => (j === i ? next : r)) : [next, ...list].slice(0, 50);
}

function onEvent(e: DaemonEvent): void {
  switch (e.type) {
    case "bundle": {
      const entities = new Set<string>();
      const fields = new Map<string, Record<string, FieldValue>>();
      let structural = false;
      for (const c of e.changes) {
        entities.add(c.entity);
        if (c.kind !== "field") structural = true;
        else fields.set(c.entity, { ...fields.get(c.entity), [c.field]: c.newValue ?? null });
      }
      changed.value = { seq: changed.value.seq + 1, entities, fields, structural };
      break;
    }
    case "conflict.opened":
    case "conflict.closed":
      void refreshConflicts();
      break;
    case "peer.up":
    case "peer.down":
      void refreshPeers();
      break;
    case "log": {
      const runId = typeof e.fields.runId === "string" ? e.fields.runId : undefined;
      const line: LogLine = { time: e.time, level: e.level, msg: e.msg, runId };
      logLines.value = [...logLines.value.slice(-(MAX_LOG - 1)), line];
      if (runId) updateRun(runId, String(e.fields.script ?? ""), (r) => ({ ...r, log: [...r.log, line].slice(-MAX_LOG) }));
      break;
    }
    case "run.started":
      updateRun(e.runId, e.script, (r) => ({ ...r, status: "running" }));
      break;
    case "run.finished":
      updateRun(e.runId, e.script, (r) => ({ ...r, status: e.status, ops: e.ops, sessionId: e.sessionId ?? r.sessionId }));
      void refreshSessions();
      void refreshTriggers();
      break;
    case "progress":
      updateRun(e.runId, e.script, (r) => ({
        ...r,
        progress:
          e.phase === "start"
            ? { label: e.label ?? "", current: e.current ?? 0, total: e.total ?? null, done: false }
            : e.phase === "update"
              ? { label: e.label ?? r.progress?.label ?? "", current: e.current ?? 0, total: e.total ?? r.progress?.total ?? null, done: false }
              : { label: r.progress?.label ?? "", current: r.progress?.total ?? r.progress?.current ?? 0, total: r.progress?.total ?? null, done: true },
      }));
      break;
    case "toast":
      toast(e.level, e.message, e.script);
      break;
    case "navigate":
      navigateTo(e.action, e.target, e.direction);
      break;
    case "dialog.request":
      dialogs.value = [...dialogs.value.filter((d) => d.id !== e.id), e];
      break;
    case "dialog.closed":
      dialogs.value = dialogs.value.filter((d) => d.id !== e.id);
      break;
    case "session.opened":
    case "session.committed":
    case "session.discarded":
    case "session.conflicts":
      updateRun(e.runId, e.script, (r) => ({ ...r, sessionId: e.sessionId }));
      void refreshSessions();
      break;
    case "trigger.fired":
    case "trigger.run_failed":
    case "trigger.chain_stopped":
      void refreshTriggers();
      break;
    default:
      if (e.type.startsWith("script.")) void refreshBackground();
  }
}

/** Names of entities shown by id elsewhere (session diffs, conflicts, cue lists), fetched once each. */
export const entityNames = signal<ReadonlyMap<string, string>>(new Map());
const asked = new Set<string>();

export function nameOf(id: string | null): string {
  if (id === null) return "—";
  const known = entityNames.value.get(id);
  if (known !== undefined) return known;
  if (!asked.has(id) && wire) {
    asked.add(id);
    ask("get", { id })
      .then((r) => {
        if ("entity" in r) learnName(id, labelOf(r.entity.id, r.entity.fields));
      })
      .catch(() => undefined);
  }
  return id;
}

export function learnName(id: string, label: string): void {
  if (entityNames.value.get(id) === label) return;
  const next = new Map(entityNames.value);
  next.set(id, label);
  entityNames.value = next;
}
