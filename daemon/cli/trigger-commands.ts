/** The commands for triggers: the configured list (with or without a daemon), and what each recent firing did. */
import type { Command } from "./command.ts";
import { UsageError } from "./args.ts";
import { configConnection, liveConnection } from "./connection.ts";
import { EntityNames, clockTime, showValue } from "./display.ts";
import type { TriggerSummary, TriggerTrace } from "../../protocol/index.ts";

const time = (ms: number | null): string => (ms === null ? "-" : clockTime(ms));

export const TRIGGERS_COMMAND: Command = {
  name: "triggers",
  usage: "openprod triggers",
  summary: "the show's triggers: what each watches and runs, how often it fired; rejected ones with the reason (a cycle)",
  examples: ["openprod triggers", "openprod triggers --json"],
  args: [0, 0],
  async run(ctx) {
    const c = await configConnection(ctx);
    let r: { triggers: TriggerSummary[] };
    try {
      r = await c.call("triggers.list");
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
};

export const TRACES_COMMAND: Command = {
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
      r = await c.call("triggers.traces", { trigger: ctx.args.positional[0], limit });
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
};
