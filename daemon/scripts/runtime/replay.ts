/**
 * Determinism and replay: what a run record keeps so a run can be replayed (the script and
 * every module it required, stored by content hash; the capabilities it ran with; the ops it
 * made), and the replay itself: the recorded version, at the recorded snapshot heads, with the
 * recorded seed, file contents and dialog answers, in a scratch overlay that is never committed.
 */
import { createHash } from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { InvalidOperation } from "../../crdt/index.ts";
import type { Heads, Operation, WorkspaceStore } from "../../crdt/index.ts";
import { CapabilitySet, readCapability } from "../capabilities/index.ts";
import type { Capability } from "../capabilities/index.ts";
import type { ModuleFiles } from "../modules/index.ts";
import type { Dialogs } from "./events.ts";
import type { RunGate } from "./run-gating.ts";
import type { ReplayableRecord, RunRecord } from "./run-records.ts";
import { ScriptSourceStore } from "./script-source-store.ts";
import type { LoadedScript } from "./script-catalog.ts";
import type { ScriptRun } from "./script-run.ts";
import { DEFAULT_SCRIPT_CONFIG } from "./script-config.ts";
import { describeEntry, describeRanOut } from "./input-tape.ts";
import type { RecordedTape, TapeRanOut } from "./input-tape.ts";
import type { ReplayResult } from "../../../protocol/index.ts";
// The wire's own words (protocol/): the daemon keeps no second copy of them.
export type { ReplayResult };

// The record format lives with the run-record store; re-exported for the runtime's public face.
export type { ReplayableRecord };

/** Ops kept whole in a run record; past that only their count and digest. */
export const RECORDED_OPS = 10_000;

/** Internal run options of a replay (RunOptions.replay). */
export interface ReplayRunInput {
  script: LoadedScript;
  heads: Heads;
  seed: number;
  capabilities: CapabilitySet | null;
  showDir: string;
  moduleFiles: ModuleFiles;
  dialogs: Dialogs;
  replayOf: string;
  /** The recorded run's tape: what its external calls answered. */
  tape: RecordedTape;
  /** Receives the ops the replay made (normalized), before its overlay is discarded. */
  onOps: (ops: unknown[]) => void;
}

const sha256 = (text: string): string => createHash("sha256").update(text, "utf8").digest("hex");

/**
 * The ops as a replay can compare them: ids the run created (entities, edges) become `#n` in
 * order of creation, and fractional positions (random tie-breaks) become "?".
 */
export function normalizeOps(ops: readonly Operation[]): unknown[] {
  const fresh = new Map<string, string>();
  for (const op of ops) {
    const o = op as unknown as Record<string, unknown>;
    if (op.op === "CreateEntity" && typeof o.id === "string") fresh.set(o.id, `#${fresh.size + 1}`);
    if ((op.op === "CreateEdge" || op.op === "CreateOrderedEdge") && typeof o.edgeId === "string") fresh.set(o.edgeId, `#${fresh.size + 1}`);
  }
  const walk = (v: unknown, key: string): unknown => {
    if (typeof v === "string") return key === "position" ? "?" : (fresh.get(v) ?? v);
    if (Array.isArray(v)) return v.map((x) => walk(x, ""));
    if (v !== null && typeof v === "object") return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, walk(x, k)]));
    return v;
  };
  return ops.map((op) => walk(op, ""));
}

const digestOf = (ops: unknown[]): string => sha256(JSON.stringify(ops));

/**
 * A field write with its field as the full key (`lighting.cue.fired_at`), as a session's
 * overlay keeps it: an autoCommit run's ops (as the script named them) compare with its
 * replay's (which runs in a scratch session).
 */
function withFieldKey(store: WorkspaceStore, op: Operation): Operation {
  if (op.op !== "SetField" && op.op !== "ApplyCRDT") return op;
  if (store.schema.fields.has(op.field)) return op;
  try {
    return { ...op, field: store.schema.resolveField(op.field, store.facetsOf(op.id)).key };
  } catch {
    return op; // the entity is gone or the name was ambiguous: kept as written
  }
}

/**
 * A store whose `apply` also hands the ops to `sink`: how an autoCommit run's ops are seen
 * (a session run's are in its overlays).
 */
export function capturingStore(store: WorkspaceStore, sink: Operation[], mark?: () => void): WorkspaceStore {
  return new Proxy(store, {
    get(target, prop) {
      if (prop === "apply") {
        // Every argument passes through: the options carry the run's write gate.
        const apply: WorkspaceStore["apply"] = async (ops, input, opts) => {
          const r = await target.apply(ops, input, opts);
          sink.push(...ops);
          for (let i = 0; i < ops.length; i++) mark?.();
          return r;
        };
        return apply;
      }
      const v: unknown = Reflect.get(target, prop, target);
      return typeof v === "function" ? (v as (...a: unknown[]) => unknown).bind(target) : v;
    },
  });
}

/** A script object whose `hash` covers the script and every module required so far. */
export function withRunHash(script: LoadedScript, gate: RunGate): LoadedScript {
  const view = { ...script };
  Object.defineProperty(view, "hash", { get: () => gate.tracker.combinedHash(script.hash), enumerable: true });
  return view;
}

/**
 * The end of a run, for its record: stores the sources by hash, stamps the combined hash on
 * the sessions it leaves for review, and returns the replay fields of the record. A replay's
 * ops go to `onOps` and its overlays are discarded.
 */
export async function finishRun(input: {
  store: WorkspaceStore;
  gate: RunGate;
  sr: ScriptRun;
  script: LoadedScript;
  autoOps: Operation[];
  /** Per autoCommit op: the tape entries consumed before it. */
  autoMarks: number[];
  tape: RecordedTape;
  ranOut: TapeRanOut | null;
  /** The origin metadata of the run's bundles, stamped on the sessions it leaves for review. */
  origin: Record<string, unknown>;
  replay?: ReplayRunInput;
  /** Where the sources go; one store kept across runs skips rewriting a source it already wrote. */
  sources?: ScriptSourceStore;
}): Promise<ReplayableRecord & { hash: string }> {
  const { store, gate, sr, script } = input;
  const hash = gate.tracker.combinedHash(script.hash);
  const sources = input.sources ?? new ScriptSourceStore(store);
  await sources.put(script.hash, { path: script.chunkName, source: script.source });
  for (const [p, source] of gate.moduleSources) await sources.put(sha256(source), { path: p, source });
  const raw: Operation[] = input.autoOps.map((op) => withFieldKey(store, op));
  const marks: number[] = [...input.autoMarks];
  for (const s of sr.sessions) {
    raw.push(...s.overlay.ops);
    marks.push(...s.inputMarks);
  }
  const ops = normalizeOps(raw);
  for (const s of sr.sessions) {
    if (s.status === "open") {
      s.meta.hash = hash;
      s.meta.origin = { ...input.origin, hash };
      if (!input.replay) await s.saveMeta();
    }
  }
  if (input.replay) {
    input.replay.onOps(ops);
    for (const s of sr.sessions) if (s.status === "open") await s.discard();
  }
  return {
    hash,
    scriptHash: script.hash,
    scriptPath: script.chunkName,
    modules: gate.tracker.hashes(),
    capabilities: input.replay ? (input.replay.capabilities?.toStrings() ?? null) : gate.granted?.toStrings() ?? null,
    scriptConfig: { onError: script.config.onError, isolation: script.config.isolation, timeoutMs: script.config.timeoutMs, memoryBytes: script.config.memoryBytes },
    opList: ops.length <= RECORDED_OPS ? ops : null,
    opInputs: ops.length <= RECORDED_OPS && marks.length === ops.length ? marks : null,
    opsDigest: digestOf(ops),
    opsCount: ops.length,
    tape: input.tape,
    ...(input.ranOut ? { inputsRanOut: input.ranOut } : {}),
    ...(input.replay ? { replayOf: input.replay.replayOf } : {}),
  };
}

/**
 * Everything a replay of `record` needs, read from the store: the recorded script and module
 * sources, a scratch show directory holding the files the run read (as it read them), and
 * the dialog answers in order. `cleanup()` removes the scratch directory.
 */
export async function prepareReplay(store: WorkspaceStore, record: RunRecord & ReplayableRecord, tmpRoot = os.tmpdir()): Promise<{ input: Omit<ReplayRunInput, "onOps">; warnings: string[]; cleanup: () => void }> {
  if (!record.scriptHash || !record.scriptPath) {
    throw new InvalidOperation(`run ${record.runId} cannot be replayed: its record keeps no script version (recorded before replay support, or the script never started)`, { runId: record.runId });
  }
  const sources = new ScriptSourceStore(store);
  const main = await sources.get(record.scriptHash);
  if (!main) throw new InvalidOperation(`run ${record.runId} cannot be replayed: source ${record.scriptHash.slice(0, 12)} of "${record.script}" is not in the store`, { runId: record.runId });
  const modules = new Map<string, string>();
  for (const [p, h] of Object.entries(record.modules ?? {})) {
    const m = await sources.get(h);
    if (!m) throw new InvalidOperation(`run ${record.runId} cannot be replayed: module ${p} (${h.slice(0, 12)}) is not in the store`, { runId: record.runId, module: p });
    modules.set(p, m.source);
  }
  const warnings: string[] = [];
  const dir = fs.mkdtempSync(path.join(tmpRoot, "openprod-replay-"));
  const put = (rel: string, content: string): void => {
    const abs = path.join(dir, ...rel.split("/"));
    fs.mkdirSync(path.dirname(abs), { recursive: true });
    fs.writeFileSync(abs, content);
  };
  const answers: unknown[] = [];
  for (const i of record.inputs) {
    // A record with a tape answers file reads from it; older records from their recorded contents.
    if (i.kind === "fs.read" && record.tape) continue;
    if (i.kind === "fs.read") {
      const v = i.value as { path?: string; content?: string | null; bytes?: number };
      if (typeof v.path !== "string") continue;
      if (typeof v.content === "string") put(v.path, v.content);
      else warnings.push(`fs.read of ${v.path} (${v.bytes ?? "?"} bytes) was recorded by hash only: the replay cannot read it`);
    } else if (i.kind.startsWith("dialog.")) answers.push(i.value);
    else if (i.kind === "inputs.summary") warnings.push("the run read more inputs than its record keeps in full");
  }
  put(record.scriptPath, main.source);
  for (const [p, source] of modules) put(p, source);
  const folders = new Set([...modules.keys()].map((p) => p.split("/").slice(0, 2).join("/")));
  const moduleFiles: ModuleFiles = {
    read: (rel) => modules.get(rel) ?? null,
    isFolder: (rel) => folders.has(rel),
  };
  const caps = record.capabilities;
  const parsed: Capability[] = [];
  for (const text of caps ?? []) {
    const c = readCapability(text);
    if (typeof c !== "string") parsed.push(c);
  }
  const script: LoadedScript = {
    id: record.script,
    file: path.join(dir, ...record.scriptPath.split("/")),
    chunkName: record.scriptPath,
    source: main.source,
    hash: record.scriptHash,
    config: scriptConfigOf(record),
  };
  return {
    input: {
      script,
      heads: record.heads,
      seed: record.seed,
      capabilities: caps === null || caps === undefined ? null : new CapabilitySet(parsed),
      showDir: dir,
      moduleFiles,
      dialogs: { ask: async () => (answers.length ? answers.shift() : null) },
      replayOf: record.runId,
      tape: record.tape ?? { entries: [], total: 0 },
    },
    warnings,
    cleanup: () => fs.rmSync(dir, { recursive: true, force: true }),
  };
}

/** The recorded run's settings; a replay always runs in a (scratch) session. */
function scriptConfigOf(record: RunRecord & ReplayableRecord): LoadedScript["config"] {
  return { ...DEFAULT_SCRIPT_CONFIG, ...(record.scriptConfig ?? {}), capabilities: [], executionMode: "session", mode: "manual" };
}

/** Compares a replay's ops with the recorded ones. */
export function compareOps(record: ReplayableRecord, replayed: unknown[]): Pick<ReplayResult, "same" | "firstDifference" | "recordedOps"> {
  const recordedOps = record.opsCount ?? 0;
  const list = record.opList;
  if (list) {
    const n = Math.max(list.length, replayed.length);
    for (let i = 0; i < n; i++) {
      const a = JSON.stringify(list[i]);
      const b = JSON.stringify(replayed[i]);
      if (a !== b) return { same: false, recordedOps, firstDifference: { index: i, recorded: list[i], replayed: replayed[i], precedingInput: precedingInput(record, i) } };
    }
    return { same: true, recordedOps };
  }
  return { same: record.opsDigest === digestOf(replayed), recordedOps };
}

/** The recorded input consumed just before op `i` was made, in words. */
function precedingInput(record: ReplayableRecord, i: number): string | null {
  const marks = record.opInputs;
  const tape = record.tape;
  if (!marks || !tape) return null;
  const consumed = marks[Math.min(i, marks.length - 1)] ?? 0;
  if (consumed === 0) return null;
  const entry = tape.entries[consumed - 1];
  return entry ? describeEntry(consumed - 1, entry) : `input #${consumed} (past what the record kept)`;
}

/** What a replay found, said in words (the CLI prints it; clients may show it). */
export function replaySummary(r: Omit<ReplayResult, "summary">): string {
  const lines: string[] = [];
  if (r.same) lines.push(`replay of ${r.runId} matched: the same ${r.replayedOps} operation(s) as the recorded run (replay status ${r.status})`);
  else {
    lines.push(`replay of ${r.runId} did NOT match: the recorded run made ${r.recordedOps} operation(s), the replay ${r.replayedOps} (replay status ${r.status})`);
    const d = r.firstDifference;
    if (d) {
      const side = (v: unknown): string => (v === undefined ? "nothing (that side had ended)" : JSON.stringify(v));
      lines.push(`first difference at operation #${d.index + 1}: recorded ${side(d.recorded)}, replayed ${side(d.replayed)}`);
      lines.push(d.precedingInput ? `the input consumed just before it: ${d.precedingInput}` : "no external input had been consumed before it");
    }
  }
  if (r.inputsRanOut) lines.push(`the recorded inputs ran out at ${describeRanOut(r.inputsRanOut)}: the replay did no live I/O there`);
  return lines.join("\n");
}
