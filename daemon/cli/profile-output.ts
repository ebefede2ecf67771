/**
 * How the CLI shows a run's profile (`openprod run --profile`, `openprod profile <run-id>`):
 * the top-N table on the terminal, and with --out the speedscope file.
 */
import fs from "node:fs";
import path from "node:path";
import type { CommandContext } from "./command.ts";
import { UsageError } from "./args.ts";
import { profileTable, speedscopeFile } from "../offline/index.ts";
import type { ScriptProfile } from "../../protocol/index.ts";

export const PROFILE_FLAGS = {
  out: { type: "string", help: "also write the profile as a speedscope file (open it at speedscope.app or in Chrome's profiler)" },
  top: { type: "string", help: "rows per part of the table (default 10)" },
} as const;

/** --top as a row count; a bad value is a usage error naming the command. */
export function topRows(ctx: CommandContext, command: string): number {
  const raw = ctx.args.flags.top;
  if (raw === undefined) return 10;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1) throw new UsageError(`--top must be a positive whole number, got "${String(raw)}"`, command);
  return n;
}

/** Writes --out when given; returns the lines to print (the table, and where the file went). */
export function profileReport(ctx: CommandContext, runId: string, script: string, profile: ScriptProfile, top: number): { text: string; file: string | null } {
  const out = ctx.args.flags.out;
  let file: string | null = null;
  if (typeof out === "string" && out !== "") {
    file = path.resolve(out);
    fs.writeFileSync(file, JSON.stringify(speedscopeFile(profile, `${script} (${runId})`)) + "\n");
  }
  const text = [`profile of run ${runId} (${script}): ${profileTable(profile, top)}`, ...(file ? ["", `speedscope file written to ${file} (open it at https://www.speedscope.app or in Chrome's profiler)`] : [])].join("\n");
  return { text, file };
}
