/** The commands for script sessions: list them, review one (entity, field, old → new), commit, discard, resolve its commit conflicts. */
import type { Command, CommandContext } from "./command.ts";
import { UsageError } from "./args.ts";
import { live } from "./calls.ts";
import { liveConnection } from "./connection.ts";
import { EntityNames, showValue } from "./display.ts";
import { shortId } from "../offline/index.ts";
import type { CommitResult, SessionChange, SessionConflict } from "../../protocol/index.ts";

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

const SESSION_SUBCOMMANDS = ["show", "commit", "discard", "conflicts", "resolve", "resolve-all"];

export const SESSIONS_COMMAND: Command = {
  name: "sessions",
  usage: "openprod sessions",
  summary: "open script sessions waiting for review: commit or discard them",
  examples: ["openprod sessions", "openprod sessions --json"],
  args: [0, 0],
  async run(ctx) {
    const r = await live(ctx, "sessions.list");
    const lines = r.sessions.map((s) => `${s.id}  ${s.script}  ${s.ops} op(s)${s.conflicts ? `  ${s.conflicts} conflict(s)` : ""}  (run ${s.runId})`);
    return { doc: r, text: lines.join("\n") || "no open sessions" };
  },
};

export const SESSION_COMMAND: Command = {
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
    const choiceOf = (v: string): "script" | "canonical" => {
      if (v !== "script" && v !== "canonical") throw new UsageError(`a conflict is resolved with "script" or "canonical", got "${v}"`, "session");
      return v;
    };
    switch (sub) {
      case "show": {
        const r = await live(ctx, "sessions.get", { id });
        const text = [
          `session ${r.id} of ${r.script} (run ${r.runId}): ${r.ops} op(s), ${r.isolation} isolation`,
          ...sessionReview(r.changes),
          `commit: openprod session commit ${r.id}    discard: openprod session discard ${r.id}`,
        ].join("\n");
        return { doc: r, text };
      }
      case "commit": {
        const r = await live(ctx, "sessions.commit", { id });
        if (r.status === "conflicts") {
          ctx.io.stdout.write((ctx.json ? JSON.stringify(r) : commitText(id, r, await conflictNames(ctx, r.conflicts))) + "\n");
          return 1;
        }
        return { doc: r, text: commitText(id, r) };
      }
      case "discard": {
        const r = await live(ctx, "sessions.discard", { id });
        return { doc: r, text: `discarded session ${id}` };
      }
      case "conflicts": {
        const r = await live(ctx, "sessions.conflicts", { id });
        return { doc: r, text: r.conflicts.length ? conflictLines(id, r.conflicts, await conflictNames(ctx, r.conflicts)).join("\n") : "no conflicts found (they are found when committing)" };
      }
      case "resolve": {
        const r = await live(ctx, "sessions.resolve", { id, conflictId: a, choice: choiceOf(b) });
        return { doc: r, text: `conflict ${a}: keep ${b}` };
      }
      default: {
        const r = await live(ctx, "sessions.resolveBulk", { id, choice: choiceOf(a) });
        return { doc: r, text: `${r.resolved} conflict(s): keep ${a}` };
      }
    }
  },
};
