/** Flags several commands share: a positive whole number, and `--listen` (init, daemon). */
import type { FlagSpec } from "./args.ts";
import { UsageError } from "./args.ts";
import type { CommandContext } from "./command.ts";
import { listenPorts } from "../offline/index.ts";

/** `--<name>` as a positive whole number; undefined when not given, a usage error when not one. */
export function intFlag(ctx: CommandContext, name: string): number | undefined {
  const v = ctx.args.flags[name];
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new UsageError(`--${name} must be a positive whole number, got "${String(v)}"`);
  return n;
}

export const LISTEN_FLAG: FlagSpec = {
  type: "string",
  repeat: true,
  help: "where the peer listens instead of [peer] listen: a port (4102: the configured address on that port) or a multiaddr (/ip4/0.0.0.0/tcp/4102); repeatable",
};

/** The `--listen` values, each checked; undefined when none was given. */
export async function listenFlag(ctx: CommandContext, command: string): Promise<string[] | undefined> {
  const values = ctx.args.lists.listen;
  if (values === undefined) return undefined;
  const { listenValueProblem } = await listenPorts();
  for (const v of values) {
    const problem = listenValueProblem(v);
    if (problem !== null) throw new UsageError(`--listen: ${problem}`, command);
  }
  return values;
}
