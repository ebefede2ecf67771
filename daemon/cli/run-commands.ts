/** The commands for script runs: run one, list the scripts, and read back runs (list, record, profile, replay). */
import type { Command } from "./command.ts";
import { UsageError } from "./args.ts";
import { live } from "./calls.ts";
import { configConnection } from "./connection.ts";
import { clockTime } from "./display.ts";
import { runScript } from "./run-script.ts";
import { PROFILE_FLAGS, profileReport, topRows } from "./profile-output.ts";
import type { ScriptInfo } from "../../protocol/index.ts";

const time = (ms: number | null): string => (ms === null ? "-" : clockTime(ms));

export const RUN_COMMAND: Command = {
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
      ({ scripts } = await c.call("scripts.list"));
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
};

export const SCRIPTS_COMMAND: Command = {
  name: "scripts",
  usage: "openprod scripts",
  summary: "the show's scripts: user and module scripts, their mode and capabilities",
  examples: ["openprod scripts", "openprod scripts --json"],
  args: [0, 0],
  async run(ctx) {
    const c = await configConnection(ctx);
    let r: { scripts: ScriptInfo[] };
    try {
      r = await c.call("scripts.list");
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
};

export const RUNS_COMMAND: Command = {
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
    const r = await live(ctx, "runs.list", { limit, script });
    const lines = r.runs.map((x) => `${x.runId}  ${time(x.startedAt)}  ${x.script.padEnd(20)} ${x.status.padEnd(9)} ${x.ops} op(s)${x.sessionId ? `  ${x.sessionId}` : ""}${x.user ? `  by ${x.user}` : ""}`);
    return { doc: r, text: lines.join("\n") || "no runs yet" };
  },
};

export const RUN_RECORD_COMMAND: Command = {
  name: "run-record",
  usage: "openprod run-record <run-id>",
  summary: "what a run was given and did: script hash, args, trigger context, snapshot heads, seed, inputs, log, outcome",
  examples: ["openprod run-record run-01JF3Q8W0000000000000000 --json"],
  args: [1, 1],
  async run(ctx) {
    const { record: r } = await live(ctx, "runs.get", { runId: ctx.args.positional[0] });
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
};

export const PROFILE_COMMAND: Command = {
  name: "profile",
  usage: "openprod profile <run-id> [--out <file>] [--top n]",
  summary: "where a profiled run's time went: Lua functions and lines, host calls (queries by text), waits in core.await, operations emitted",
  details: "A run is profiled with openprod run --profile, or every run of a script with profile = true in its [script.<name>] section (triggered runs too). --out writes the speedscope file (https://www.speedscope.app, or Chrome's profiler).",
  examples: ["openprod profile run-01JF3Q8W0000000000000000", "openprod profile run-01JF3Q8W0000000000000000 --out run.speedscope.json"],
  flags: { ...PROFILE_FLAGS },
  args: [1, 1],
  async run(ctx) {
    const top = topRows(ctx, "profile");
    const { record: r } = await live(ctx, "runs.get", { runId: ctx.args.positional[0] });
    if (!r.profile) throw new UsageError(`run ${r.runId} was not profiled: run it with openprod run ${r.script} --profile, or set profile = true in [script.${r.script}]`, "profile");
    const { text, file } = profileReport(ctx, r.runId, r.script, r.profile, top);
    return { doc: { runId: r.runId, script: r.script, profile: r.profile, ...(file ? { out: file } : {}) }, text };
  },
};

export const REPLAY_COMMAND: Command = {
  name: "replay",
  usage: "openprod replay <run-id>",
  summary: "re-run a recorded run (same script version, snapshot, seed and recorded inputs, no live I/O) in a scratch overlay and say whether it did the same",
  details: "Every answer the run got from outside the snapshot (OSC, MIDI, HTTP, files, dialogs, context.hlc_time(), race outcomes) is fed back in order; the replay opens no socket, port or file. It says whether the operations matched, else the first one that differed and the input consumed just before it, or where the recorded inputs ran out.",
  examples: ["openprod replay run-01JF3Q8W0000000000000000", "openprod replay run-01JF3Q8W0000000000000000 --json"],
  args: [1, 1],
  async run(ctx) {
    const r = await live(ctx, "runs.replay", { runId: ctx.args.positional[0] });
    const text = [r.summary, ...r.warnings.map((w) => `  note: ${w}`)].join("\n");
    return { doc: r, text };
  },
};
