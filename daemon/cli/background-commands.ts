/** The commands that stop runs and drive background scripts: cancel, start, stop, ps. */
import type { Command } from "./command.ts";
import { jsonObject } from "./args.ts";
import { live } from "./calls.ts";
import type { BackgroundInfo } from "../../protocol/index.ts";

function backgroundText(s: BackgroundInfo): string {
  const err = s.lastError ? `  last error: ${s.lastError.type}: ${s.lastError.message}` : "";
  return `${s.id.padEnd(24)} ${s.state.padEnd(8)} ${s.runId ?? "-"}  restarts ${s.restarts}${err}`;
}

export const CANCEL_COMMAND: Command = {
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
    const r = await live(ctx, "runs.cancel", { target: ctx.args.positional[0], keepOverlay: ctx.args.flags.keep === true });
    const lines = r.cancelled.map(
      (c) => `cancelled ${c.runId} (${c.script}, ${c.kind}): ${c.status}, ${c.ops} op(s)${c.sessionId ? `, session ${c.sessionId} ${c.sessionStatus === "open" ? "kept for review" : (c.sessionStatus ?? "")}` : ""}`,
    );
    return { doc: r, text: lines.join("\n") };
  },
};

export const START_COMMAND: Command = {
  name: "start",
  usage: "openprod start <script> [--args '<json>']",
  summary: "start a background script (mode = \"background\"); it runs until stopped",
  examples: ["openprod start lighting/osc_listener"],
  flags: { args: { type: "string", help: "the script's args as one JSON object" } },
  args: [1, 1],
  async run(ctx) {
    const script = ctx.args.positional[0];
    const args = typeof ctx.args.flags.args === "string" ? jsonObject(ctx.args.flags.args, "start") : undefined;
    const r = await live(ctx, "scripts.start", args === undefined ? { script } : { script, args });
    return { doc: r, text: backgroundText(r) };
  },
};

export const STOP_COMMAND: Command = {
  name: "stop",
  usage: "openprod stop <script>",
  summary: "stop a background script (its on_shutdown runs) and wait until it ended",
  examples: ["openprod stop lighting/osc_listener"],
  args: [1, 1],
  async run(ctx) {
    const r = await live(ctx, "scripts.stop", { script: ctx.args.positional[0] });
    return { doc: r, text: backgroundText(r) };
  },
};

export const PS_COMMAND: Command = {
  name: "ps",
  usage: "openprod ps",
  summary: "background scripts: state, current run, restarts, last error",
  examples: ["openprod ps", "openprod ps --json"],
  args: [0, 0],
  async run(ctx) {
    const r = await live(ctx, "scripts.ps");
    return { doc: r, text: r.scripts.map(backgroundText).join("\n") || "no background scripts started" };
  },
};
