/**
 * The commands for scripts, their sessions and runs, triggers and background
 * scripts. All of them talk to a running daemon (scripts run there).
 */
import type { Command, CommandContext } from "./commands.ts";
import { UsageError, jsonObject } from "./args.ts";
import { configConnection, liveConnection } from "./connection.ts";
import { EntityNames, clockTime, showValue } from "./display.ts";
import { shortId } from "../crdt/entity-name.ts";
import { runScript } from "./run-script.ts";
import { PROFILE_FLAGS, profileReport, topRows } from "./profile-output.ts";
import type {
  BackgroundInfo,
  CommitResult,
  RunListEntry,
  RunRecord,
  ReplayResult,
  ScriptInfo,
  SessionChange,
  SessionConflict,
  SessionInfo,
  TriggerSummary,
  TriggerTrace,
} from "../../protocol/index.ts";

async function call(ctx: CommandContext, method: string, params: unknown = {}): Promise<unknown> {
  const c = await liveConnection(ctx);
  try {
    return await c.call(method, params);
  } finally {
    await c.close();
  }
}

const time = (ms: number | null): string => (ms === null ? "-" : clockTime(ms));

/** A session's review: created entities with their values, then each real change by entity name; no-op writes are left out. */
function sessionReview(changes: readonly SessionChange[]): string[] {
  const label = (c: SessionChange): string => (c.name ? `${c.name} (${shortId(c.entity ?? "")})` : (c.entity ?? ""));
  const created = new Set(changes.filter((c) => c.op === "CreateEntity" && c.entity !== null).map((c) => c.entity));
  const lines: string[] = [];
  let noops = 0;
  for (const c of changes) {
    if (c.op === "CreateEntity" && c.values) {
      const values = Object.entries(c.values).map(([k, v]) => `${k.slice(k.lastIndexOf(".") + 1)}=${showValue(v)}`);
      lines.push(`  + ${label(c)}${values.length ? `: ${values.join(", ")}` : ""}`);
    } else if (c.op === "SetField") {
      // Writes to an entity the session creates are shown as its values above.
      if (c.entity !== null && created.has(c.entity)) continue;
      if (c.noop) {
        noops++;
        continue;
      }
      const field = c.field ?? "";
      lines.push(`  ~ ${label(c)}: ${field.slice(field.lastIndexOf(".") + 1)} ${showValue(c.old ?? undefined)} → ${showValue(c.new)}`);
    } else if (c.op === "DeleteEntity") lines.push(`  - ${label(c)}`);
    else lines.push(`  ${c.name ? `${label(c)}: ` : ""}${c.summary}`);
  }
  if (noops) lines.push(`  (${noops} write(s) of a value the field already holds left out)`);
  return lines;
}

function conflictLines(id: string, conflicts: SessionConflict[], names?: EntityNames): string[] {
  return [
    ...conflicts.map((c) => {
      const resolved = c.resolution ? `, resolved: keep ${c.resolution}` : "";
      const who = names ? names.label(c.entity) : c.entity;
      // Structural conflicts carry their two sides as sentences.
      if (c.kind === "structure") return `  ${c.id}  ${who}: the script would ${String(c.scriptValue)}; ${String(c.canonicalValue)}${resolved}`;
      return `  ${c.id}  ${who} ${c.field}: script wrote ${showValue(c.scriptValue)}, canonical now ${showValue(c.canonicalValue)} (was ${showValue(c.snapshotValue)})${resolved}`;
    }),
    `resolve each with: openprod session resolve ${id} <conflict-id> script|canonical (or all at once: openprod session resolve-all ${id} script|canonical), then commit again`,
  ];
}

/** Names for the entities a list of session conflicts is about (one extra call). */
async function conflictNames(ctx: CommandContext, conflicts: readonly SessionConflict[]): Promise<EntityNames> {
  const c = await liveConnection(ctx);
  try {
    return await EntityNames.load(c, conflicts.map((x) => x.entity));
  } finally {
    await c.close();
  }
}

function commitText(id: string, r: CommitResult, names?: EntityNames): string {
  if (r.status === "committed") return r.hash ? `committed session ${id}: bundle ${r.hash.slice(0, 12)} (${r.ops} op(s))` : `committed session ${id}: nothing to change`;
  return [`session ${id} was not committed: ${r.conflicts.filter((c) => !c.resolution).length} conflict(s) with changes made since the run`, ...conflictLines(id, r.conflicts, names)].join("\n");
}

function backgroundText(s: BackgroundInfo): string {
  const err = s.lastError ? `  last error: ${s.lastError.type}: ${s.lastError.message}` : "";
  return `${s.id.padEnd(24)} ${s.state.padEnd(8)} ${s.runId ?? "-"}  restarts ${s.restarts}${err}`;
}

const SESSION_SUBCOMMANDS = ["show", "commit", "discard", "conflicts", "resolve", "resolve-all"];

export const SCRIPT_COMMANDS: Command[] = [
  {
    name: "run",
    usage: "openprod run <script> [--arg key=value ...] [--args '<json>'] [--commit] [--answer <value>] [--profile [--out <file>] [--top n]]   (openprod run <script> --help: its arguments)",
    summary: "run a script in the daemon, streaming its log, progress and toasts; prints the run id, outcome and session",
    details: [
      "Values of --arg are JSON when they parse as JSON (42, true), else text; --args gives them all as one JSON object.",
      "A session-mode script leaves its changes in a session for review (openprod session show <id>); --commit commits it when the run ends without conflicts.",
      "Dialogs the script opens are asked on the terminal; with --answer every dialog gets that value (yes/no for confirm); with --json or no terminal and no --answer, nothing answers and the dialog times out.",
      "--profile records where the run's time went (Lua functions and lines, host calls, queries by text, waits in core.await) and prints the top of it; --out also writes a speedscope file. openprod profile <run-id> shows it again later.",
      "Exit code 1 when the run did not end ok (or its commit found conflicts).",
    ].join("\n"),
    examples: ["openprod run renumber_cues --arg scene_id=01JF3Q8W0000000000000000", "openprod run renumber_cues --args '{\"scene_id\":\"01JF...\"}' --commit --json"],
    flags: {
      arg: { type: "string", repeat: true, help: "key=value for the script's args (repeatable)" },
      args: { type: "string", help: "the script's args as one JSON object" },
      commit: { type: "boolean", help: "commit the run's session when it ends without conflicts" },
      answer: { type: "string", help: "answer every dialog the script opens with this value" },
      profile: { type: "boolean", help: "profile the run: where its time went (see openprod profile)" },
      ...PROFILE_FLAGS,
    },
    args: [1, 1],
    run: (ctx) => runScript(ctx),
    async helpFor(ctx) {
      const id = ctx.args.positional[0];
      const c = await configConnection(ctx);
      let scripts: ScriptInfo[];
      try {
        ({ scripts } = (await c.call("scripts.list")) as { scripts: ScriptInfo[] });
      } finally {
        await c.close();
      }
      const s = scripts.find((x) => x.id === id);
      if (!s) throw new UsageError(`no script "${id}" (openprod scripts lists them)`, "run");
      const args = s.args ?? [];
      const lines = [
        `usage: openprod run ${id}${args.map((a) => (a.required ? ` --arg ${a.name}=<${a.type}>` : ` [--arg ${a.name}=<${a.type}>]`)).join("")}`,
        "",
        `${s.mode === "background" ? "background" : (s.executionMode ?? "")} script ${s.file}; capabilities: ${s.capabilities.join(", ") || "none"}`,
        "",
        args.length ? "arguments:" : "arguments: none declared ([script.<name>.args] in its config declares them)",
        ...args.map((a) => `  ${a.name.padEnd(14)} ${a.type.padEnd(7)} ${a.help}${a.default !== undefined ? ` (default ${JSON.stringify(a.default)})` : a.required ? " (required)" : ""}`),
      ];
      return { doc: { script: s.id, args }, text: lines.join("\n") };
    },
  },
  {
    name: "scripts",
    usage: "openprod scripts",
    summary: "the show's scripts: user and module scripts, their mode and capabilities",
    examples: ["openprod scripts", "openprod scripts --json"],
    args: [0, 0],
    async run(ctx) {
      const c = await configConnection(ctx);
      let r: { scripts: ScriptInfo[] };
      try {
        r = (await c.call("scripts.list")) as { scripts: ScriptInfo[] };
      } finally {
        await c.close();
      }
      const lines = r.scripts.map((s) =>
        s.error
          ? `${s.id.padEnd(28)} cannot load: ${s.error}`
          : `${s.id.padEnd(28)} ${(s.mode === "background" ? "background" : (s.executionMode ?? "")).padEnd(11)} ${s.capabilities.join(", ") || "(no capabilities)"}${s.configured ? "" : "  (no [script.*] section)"}`,
      );
      return { doc: { ...r, running: c.live }, text: (lines.join("\n") || "no scripts") + (c.live ? "" : "\n(no daemon running: read from the show's configuration)") };
    },
  },
  {
    name: "sessions",
    usage: "openprod sessions",
    summary: "open script sessions waiting for review: commit or discard them",
    examples: ["openprod sessions", "openprod sessions --json"],
    args: [0, 0],
    async run(ctx) {
      const r = (await call(ctx, "sessions.list")) as { sessions: SessionInfo[] };
      const lines = r.sessions.map((s) => `${s.id}  ${s.script}  ${s.ops} op(s)${s.conflicts ? `  ${s.conflicts} conflict(s)` : ""}  (run ${s.runId})`);
      return { doc: r, text: lines.join("\n") || "no open sessions" };
    },
  },
  {
    name: "session",
    usage: "openprod session show|commit|discard|conflicts <id>  |  openprod session resolve <id> <conflict-id> script|canonical  |  openprod session resolve-all <id> script|canonical",
    summary: "review a script session (entity, field, old → new), commit it as one bundle, discard it, or resolve its commit conflicts",
    details: "Commit applies every change of the session atomically. If canonical changed a field the script also wrote since the run started, nothing is applied and the conflicts are listed: choose per conflict (script or canonical), or all of them at once with resolve-all (above 100 they are reported as one bulk conflict), then commit again. A field canonical changed to the value the script wrote is no conflict.",
    examples: ["openprod session show s-run-01JF3Q8W", "openprod session commit s-run-01JF3Q8W", "openprod session resolve s-run-01JF3Q8W 01JF...:lighting.cue.number script"],
    args: [2, 4],
    async run(ctx) {
      const [sub, id, a, b] = ctx.args.positional;
      if (!SESSION_SUBCOMMANDS.includes(sub)) throw new UsageError(`unknown session command "${sub}" (use: ${SESSION_SUBCOMMANDS.join(", ")})`, "session");
      const arity = sub === "resolve" ? 4 : sub === "resolve-all" ? 3 : 2;
      if (ctx.args.positional.length !== arity) throw new UsageError(`session ${sub} takes ${arity - 1} argument(s) after "${sub}"`, "session");
      const choiceOf = (v: string): string => {
        if (v !== "script" && v !== "canonical") throw new UsageError(`a conflict is resolved with "script" or "canonical", got "${v}"`, "session");
        return v;
      };
      switch (sub) {
        case "show": {
          const r = (await call(ctx, "sessions.get", { id })) as SessionInfo & { changes: SessionChange[] };
          const text = [
            `session ${r.id} of ${r.script} (run ${r.runId}): ${r.ops} op(s), ${r.isolation} isolation`,
            ...sessionReview(r.changes),
            `commit: openprod session commit ${r.id}    discard: openprod session discard ${r.id}`,
          ].join("\n");
          return { doc: r, text };
        }
        case "commit": {
          const r = (await call(ctx, "sessions.commit", { id })) as CommitResult;
          if (r.status === "conflicts") {
            ctx.io.stdout.write((ctx.json ? JSON.stringify(r) : commitText(id, r, await conflictNames(ctx, r.conflicts))) + "\n");
            return 1;
          }
          return { doc: r, text: commitText(id, r) };
        }
        case "discard": {
          const r = await call(ctx, "sessions.discard", { id });
          return { doc: r, text: `discarded session ${id}` };
        }
        case "conflicts": {
          const r = (await call(ctx, "sessions.conflicts", { id })) as { conflicts: SessionConflict[] };
          return { doc: r, text: r.conflicts.length ? conflictLines(id, r.conflicts, await conflictNames(ctx, r.conflicts)).join("\n") : "no conflicts found (they are found when committing)" };
        }
        case "resolve": {
          const r = await call(ctx, "sessions.resolve", { id, conflictId: a, choice: choiceOf(b) });
          return { doc: r, text: `conflict ${a}: keep ${b}` };
        }
        default: {
          const r = (await call(ctx, "sessions.resolveBulk", { id, choice: choiceOf(a) })) as { resolved: number };
          return { doc: r, text: `${r.resolved} conflict(s): keep ${a}` };
        }
      }
    },
  },
  {
    name: "runs",
    usage: "openprod runs [--script <id>] [--limit n]",
    summary: "script runs, newest first: running ones, then their records (status, ops, session)",
    examples: ["openprod runs --limit 10", "openprod runs --script renumber_cues --json"],
    flags: { script: { type: "string", help: "only runs of this script" }, limit: { type: "string", help: "at most n runs (default 50)" } },
    args: [0, 0],
    async run(ctx) {
      const limit = ctx.args.flags.limit === undefined ? undefined : Number(ctx.args.flags.limit);
      if (limit !== undefined && (!Number.isInteger(limit) || limit < 1)) throw new UsageError(`--limit must be a positive whole number, got "${String(ctx.args.flags.limit)}"`, "runs");
      const script = typeof ctx.args.flags.script === "string" ? ctx.args.flags.script : undefined;
      const r = (await call(ctx, "runs.list", { limit, script })) as { runs: RunListEntry[] };
      const lines = r.runs.map((x) => `${x.runId}  ${time(x.startedAt)}  ${x.script.padEnd(20)} ${x.status.padEnd(9)} ${x.ops} op(s)${x.sessionId ? `  ${x.sessionId}` : ""}${x.user ? `  by ${x.user}` : ""}`);
      return { doc: r, text: lines.join("\n") || "no runs yet" };
    },
  },
  {
    name: "run-record",
    usage: "openprod run-record <run-id>",
    summary: "what a run was given and did: script hash, args, trigger context, snapshot heads, seed, inputs, log, outcome",
    examples: ["openprod run-record run-01JF3Q8W0000000000000000 --json"],
    args: [1, 1],
    async run(ctx) {
      const { record: r } = (await call(ctx, "runs.get", { runId: ctx.args.positional[0] })) as { record: RunRecord };
      const text = [
        `run ${r.runId} of ${r.script} (${r.mode})${r.user ? ` by ${r.user}` : ""}`,
        `  ${time(r.startedAt)} → ${time(r.endedAt)}  status ${r.status}, ${r.ops} op(s), ${r.bundles} bundle(s)`,
        ...(r.error ? [`  error: ${r.error.type}: ${r.error.message}`] : []),
        ...(r.sessionId ? [`  session ${r.sessionId} (${r.sessionStatus ?? "?"})`] : []),
        `  args ${JSON.stringify(r.args)}${Object.keys(r.context).length ? `  context ${JSON.stringify(r.context)}` : ""}`,
        `  script sha-256 ${r.hash ?? "-"}  seed ${r.seed}  heads ${r.heads.map((h) => h.slice(0, 12)).join(",")}`,
        ...(r.inputs.length ? [`  inputs: ${r.inputs.map((i) => `${i.kind}=${JSON.stringify(i.value)}`).join(", ")}`] : []),
        ...(r.tape && r.tape.total > 0
          ? [`  recorded for replay: ${r.tape.total} answer(s) from outside (${[...new Set(r.tape.entries.map((e) => e.b))].join(", ")})${r.tape.total > r.tape.entries.length ? `, the first ${r.tape.entries.length} kept` : ""}`]
          : []),
        ...r.skips.map((s) => `  skipped ${s.binding}: ${s.error.type}: ${s.error.message}`),
        ...r.log.map((l) => `  [${l.level}] ${l.message}`),
      ].join("\n");
      return { doc: { record: r }, text };
    },
  },
  {
    name: "profile",
    usage: "openprod profile <run-id> [--out <file>] [--top n]",
    summary: "where a profiled run's time went: Lua functions and lines, host calls (queries by text), waits in core.await, operations emitted",
    details: "A run is profiled with openprod run --profile, or every run of a script with profile = true in its [script.<name>] section (triggered runs too). --out writes the speedscope file (https://www.speedscope.app, or Chrome's profiler).",
    examples: ["openprod profile run-01JF3Q8W0000000000000000", "openprod profile run-01JF3Q8W0000000000000000 --out run.speedscope.json"],
    flags: { ...PROFILE_FLAGS },
    args: [1, 1],
    async run(ctx) {
      const top = topRows(ctx, "profile");
      const { record: r } = (await call(ctx, "runs.get", { runId: ctx.args.positional[0] })) as { record: RunRecord };
      if (!r.profile) throw new UsageError(`run ${r.runId} was not profiled: run it with openprod run ${r.script} --profile, or set profile = true in [script.${r.script}]`, "profile");
      const { text, file } = profileReport(ctx, r.runId, r.script, r.profile, top);
      return { doc: { runId: r.runId, script: r.script, profile: r.profile, ...(file ? { out: file } : {}) }, text };
    },
  },
  {
    name: "replay",
    usage: "openprod replay <run-id>",
    summary: "re-run a recorded run (same script version, snapshot, seed and recorded inputs, no live I/O) in a scratch overlay and say whether it did the same",
    details: "Every answer the run got from outside the snapshot (OSC, MIDI, HTTP, files, dialogs, context.hlc_time(), race outcomes) is fed back in order; the replay opens no socket, port or file. It says whether the operations matched, else the first one that differed and the input consumed just before it, or where the recorded inputs ran out.",
    examples: ["openprod replay run-01JF3Q8W0000000000000000", "openprod replay run-01JF3Q8W0000000000000000 --json"],
    args: [1, 1],
    async run(ctx) {
      const r = (await call(ctx, "runs.replay", { runId: ctx.args.positional[0] })) as ReplayResult;
      const text = [r.summary, ...r.warnings.map((w) => `  note: ${w}`)].join("\n");
      return { doc: r, text };
    },
  },
  {
    name: "triggers",
    usage: "openprod triggers",
    summary: "the show's triggers: what each watches and runs, how often it fired; rejected ones with the reason (a cycle)",
    examples: ["openprod triggers", "openprod triggers --json"],
    args: [0, 0],
    async run(ctx) {
      const c = await configConnection(ctx);
      let r: { triggers: TriggerSummary[] };
      try {
        r = (await c.call("triggers.list")) as { triggers: TriggerSummary[] };
      } finally {
        await c.close();
      }
      const lines = r.triggers.map((t) =>
        t.status === "rejected"
          ? `${t.name}  REJECTED (${t.file}:${t.line ?? "?"}): ${t.error ?? ""}`
          : `${t.name}  ${t.watches} → ${t.script}${t.when ? `  when ${t.when}` : ""}${t.scope ? `  scope ${t.scope}` : ""}  fired ${t.fired}${t.pending ? `, ${t.pending} pending` : ""}`,
      );
      return {
        doc: { ...r, running: c.live },
        text: (lines.join("\n") || "no triggers configured") + (c.live ? "" : "\n(no daemon running: read from the show's configuration; firing counts are kept by a running daemon)"),
      };
    },
  },
  {
    name: "traces",
    usage: "openprod traces <trigger> [--limit n]",
    summary: "what each recent firing of a trigger did: the change, the condition, the scope, the run and why it did (not) run",
    examples: ["openprod traces cue_started", "openprod traces renumber_on_reorder --limit 5 --json"],
    flags: { limit: { type: "string", help: "only the last n firings" } },
    args: [1, 1],
    async run(ctx) {
      const limit = ctx.args.flags.limit === undefined ? undefined : Number(ctx.args.flags.limit);
      if (limit !== undefined && (!Number.isInteger(limit) || limit < 1)) throw new UsageError(`--limit must be a positive whole number, got "${String(ctx.args.flags.limit)}"`, "traces");
      const c = await liveConnection(ctx);
      let r: { trigger: string; traces: TriggerTrace[] };
      let names: EntityNames;
      try {
        r = (await c.call("triggers.traces", { trigger: ctx.args.positional[0], limit })) as { trigger: string; traces: TriggerTrace[] };
        names = await EntityNames.load(c, r.traces.map((t) => t.entity));
      } finally {
        await c.close();
      }
      const lines = r.traces.map(
        (t) =>
          `#${t.seq} ${time(t.at)}  ${names.label(t.entity)} ${t.field.slice(t.field.lastIndexOf(".") + 1)}: ${showValue(t.oldValue)} → ${showValue(t.newValue)}  ${t.status}${t.runId ? `  ${t.runId}` : ""}${t.reason ? `  (${t.reason})` : ""}${t.error ? `  ${t.error.type}: ${t.error.message}` : ""}`,
      );
      return { doc: r, text: lines.join("\n") || `trigger ${r.trigger} has not fired yet` };
    },
  },
  {
    name: "cancel",
    usage: "openprod cancel <run-id|script> [--keep]",
    summary: "stop a running run (one-shot, trigger or background) by run id, or every run of a script, and wait until it ended",
    details: [
      "A session run's overlay is discarded (nothing persists) unless --keep leaves it open for review; an autoCommit run keeps the bundles it already wrote.",
      "The script's on_shutdown() runs, within its shutdown_timeout. A background script stopped this way is not restarted.",
    ].join("\n"),
    examples: ["openprod cancel run-01JF3Q8W0000000000000000", "openprod cancel renumber_cues --keep"],
    flags: { keep: { type: "boolean", help: "keep a session run's overlay for review" } },
    args: [1, 1],
    async run(ctx) {
      const r = (await call(ctx, "runs.cancel", { target: ctx.args.positional[0], keepOverlay: ctx.args.flags.keep === true })) as {
        cancelled: { runId: string; script: string; kind: string; status: string; ops: number; sessionId: string | null; sessionStatus: string | null }[];
      };
      const lines = r.cancelled.map(
        (c) => `cancelled ${c.runId} (${c.script}, ${c.kind}): ${c.status}, ${c.ops} op(s)${c.sessionId ? `, session ${c.sessionId} ${c.sessionStatus === "open" ? "kept for review" : (c.sessionStatus ?? "")}` : ""}`,
      );
      return { doc: r, text: lines.join("\n") };
    },
  },
  {
    name: "start",
    usage: "openprod start <script> [--args '<json>']",
    summary: "start a background script (mode = \"background\"); it runs until stopped",
    examples: ["openprod start lighting/osc_listener"],
    flags: { args: { type: "string", help: "the script's args as one JSON object" } },
    args: [1, 1],
    async run(ctx) {
      const params: Record<string, unknown> = { script: ctx.args.positional[0] };
      if (typeof ctx.args.flags.args === "string") params.args = jsonObject(ctx.args.flags.args, "start");
      const r = (await call(ctx, "scripts.start", params)) as BackgroundInfo;
      return { doc: r, text: backgroundText(r) };
    },
  },
  {
    name: "stop",
    usage: "openprod stop <script>",
    summary: "stop a background script (its on_shutdown runs) and wait until it ended",
    examples: ["openprod stop lighting/osc_listener"],
    args: [1, 1],
    async run(ctx) {
      const r = (await call(ctx, "scripts.stop", { script: ctx.args.positional[0] })) as BackgroundInfo;
      return { doc: r, text: backgroundText(r) };
    },
  },
  {
    name: "ps",
    usage: "openprod ps",
    summary: "background scripts: state, current run, restarts, last error",
    examples: ["openprod ps", "openprod ps --json"],
    args: [0, 0],
    async run(ctx) {
      const r = (await call(ctx, "scripts.ps")) as { scripts: BackgroundInfo[] };
      return { doc: r, text: r.scripts.map(backgroundText).join("\n") || "no background scripts started" };
    },
  },
  {
    name: "link",
    usage: "openprod link <edge-type> <source-id> <target-id>",
    summary: "create an edge between two entities (needs a daemon), e.g. a cue's scene edge",
    examples: ["openprod link scene 01JF3Q8W0000000000000001 01JF3Q8W0000000000000002"],
    args: [3, 3],
    async run(ctx) {
      const [type, source, target] = ctx.args.positional;
      const r = (await call(ctx, "edge.create", { type, source, target })) as { edgeId: string };
      return { doc: r, text: r.edgeId };
    },
  },
];
