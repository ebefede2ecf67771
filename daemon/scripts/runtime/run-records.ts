/**
 * Run records: what a run was given and what it did, kept in the store's database
 * (namespace "runs") so a run can be audited and replayed against its snapshot.
 */
import type { Heads, WorkspaceStore } from "../../crdt/index.ts";
import type { RunLogLine } from "./script-run.ts";
import type { ReplayableRecord } from "./replay.ts";
import type { ScriptProfile } from "./run-profile.ts";

export const RUNS_NAMESPACE = "runs";

export interface RunSkip {
  binding: string;
  error: { type: string; message: string; line?: number; file?: string };
}

/** What replay needs (script version, modules, capabilities, ops) is in ReplayableRecord. */
export interface RunRecord extends ReplayableRecord {
  runId: string;
  script: string;
  /** sha-256 of the script source. */
  hash: string | null;
  mode: "session" | "autoCommit";
  args: unknown;
  context: Record<string, unknown>;
  user?: string;
  chain?: unknown;
  /** Canonical heads when the run started (its snapshot). */
  heads: Heads;
  /** math.random seed. */
  seed: number;
  startedAt: number;
  endedAt: number;
  status: string;
  ops: number;
  bundles: number;
  skips: RunSkip[];
  error?: { type: string; message: string; file?: string; line?: number; column?: number };
  sessionId?: string;
  sessionStatus?: "open" | "committed" | "discarded";
  /** External inputs the run read (dialog answers...). */
  inputs: { kind: string; value: unknown }[];
  log: RunLogLine[];
  /** Where the time went, for a run recorded with profiling on. */
  profile?: ScriptProfile;
}

export async function writeRunRecord(store: WorkspaceStore, record: RunRecord): Promise<void> {
  await store.records(RUNS_NAMESPACE).putJson(record.runId, record);
}

export async function readRunRecord(store: WorkspaceStore, runId: string): Promise<RunRecord | undefined> {
  return store.records(RUNS_NAMESPACE).getJson<RunRecord>(runId);
}
