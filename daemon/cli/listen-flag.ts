/** `--listen`, shared by init, join and daemon: a port or a multiaddr, repeatable, each value checked. */
import type { FlagSpec } from "./args.ts";
import { UsageError } from "./args.ts";
import type { CommandContext } from "./commands.ts";

export const LISTEN_FLAG: FlagSpec = {
  type: "string",
  repeat: true,
  help: "where the peer listens instead of [peer] listen: a port (4102: the configured address on that port) or a multiaddr (/ip4/0.0.0.0/tcp/4102); repeatable",
};

/** The `--listen` values, each checked; undefined when none was given. */
export async function listenFlag(ctx: CommandContext, command: string): Promise<string[] | undefined> {
  const values = ctx.args.lists.listen;
  if (values === undefined) return undefined;
  const { listenValueProblem } = await import("../peer/listen-ports.ts");
  for (const v of values) {
    const problem = listenValueProblem(v);
    if (problem !== null) throw new UsageError(`--listen: ${problem}`, command);
  }
  return values;
}
