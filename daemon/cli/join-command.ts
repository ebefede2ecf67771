/** `openprod join <peer address> --code <code>`: this machine becomes a peer of a running show (see join-show.ts). */
import { UsageError } from "./args.ts";
import type { Command, CommandContext } from "./command.ts";
import { LISTEN_FLAG, listenFlag } from "./flags.ts";

export const JOIN_FLAGS = {
  code: { type: "string", help: "the one-time code `openprod invite` printed on the running peer" },
  listen: LISTEN_FLAG,
  name: { type: "string", help: "this peer's name for people ([peer] name; default the hostname)" },
} as const;

/** Shared by `join` and `init --join`. */
export async function runJoin(ctx: CommandContext, dir: string, address: string, command: string): Promise<{ doc: unknown; text: string }> {
  const code = ctx.args.flags.code;
  if (typeof code !== "string" || code.trim() === "") {
    throw new UsageError(`${command} needs --code <code>: run \`openprod invite\` on the running peer, it prints the whole command`, command);
  }
  const name = typeof ctx.args.flags.name === "string" ? ctx.args.flags.name : undefined;
  const { joinShow } = await import("./join-show.ts");
  const r = await joinShow({ dir, address, code, listen: await listenFlag(ctx, command), name });
  const lines = [
    `joined show ${r.workspace.name} (${r.workspace.id}) from ${r.inviter.name} (${r.inviter.peerId})`,
    `  show directory  ${r.dir} (${r.files.length} configuration file(s), the workspace key in .openprod/)`,
    `  this peer       ${r.peerId}`,
    `  connects to     ${r.connect}`,
    ...(r.allowListed ? [`the inviting peer only lets listed peers in: add "${r.peerId}" to [peer] allow in its openprod.toml`] : []),
    `next: openprod daemon --dir ${r.dir}   (it syncs the workspace from ${r.inviter.name})`,
  ];
  return { doc: r, text: lines.join("\n") };
}

export const JOIN_COMMAND: Command = {
  name: "join",
  usage: "openprod join <peer address> --code <code> [--dir <new show>] [--listen <port>] [--name <peer name>]",
  summary: "set this machine up as a peer of a running show, from a one-time invite",
  details:
    "On the running peer, `openprod invite` prints the exact command to run here. join fetches the workspace key and the show's configuration " +
    "(openprod.toml, modules, workspace scripts) over the network, writes a new show directory (the current one, or --dir; it must be empty or new) " +
    "with [peer] connect pointing at that peer, and gives it its own identity. The store is not copied: `openprod daemon` syncs it. " +
    "A wrong, expired (10 minutes) or already used code writes nothing.",
  examples: ["openprod join /ip4/192.168.1.10/tcp/40871/p2p/12D3KooW... --code 7F3K-9QXA", "openprod join /ip4/127.0.0.1/tcp/40871/p2p/12D3KooW... --code 7F3K-9QXA --dir ~/shows/hamlet-b --listen 4102"],
  flags: JOIN_FLAGS,
  args: [1, 1],
  run: (ctx) => runJoin(ctx, ctx.dir, ctx.args.positional[0], "join"),
};
