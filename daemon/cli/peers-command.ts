/** `openprod peers`: the peers this daemon syncs with (names, addresses, lag), or dial one now. */
import type { Command } from "./command.ts";
import { UsageError } from "./args.ts";
import { live } from "./calls.ts";
import { clockTime } from "./display.ts";

export const PEERS_COMMAND: Command = {
  name: "peers",
  usage: "openprod peers [connect <multiaddr>]",
  summary: "peers this daemon syncs with; or dial one now",
  examples: ["openprod peers", "openprod peers connect /ip4/10.0.0.12/tcp/4101/p2p/12D3KooW..."],
  args: [0, 2],
  async run(ctx) {
    const [sub, addr] = ctx.args.positional;
    if (sub !== undefined && (sub !== "connect" || addr === undefined)) throw new UsageError("use: openprod peers [connect <multiaddr>]", "peers");
    if (sub === "connect") await live(ctx, "peers.connect", { addr });
    const r = await live(ctx, "peers.list");
    const lines = [`this peer ${r.peerName} (${r.peerId})`, ...r.addresses.map((a) => `  ${a}`)];
    lines.push(r.peers.length ? "syncing with:" : "not syncing with any peer");
    for (const p of r.peers) {
      const lag = p.behindMs > 0 ? `, behind ${(p.behindMs / 1000).toFixed(1)} s` : ", in sync";
      lines.push(`  ${p.name ?? "(unnamed)"} (${p.peerId}) at ${p.remoteAddr} (${p.direction}, since ${clockTime(p.since)}${lag})`);
      if (p.modulesDiffer) lines.push(`    warning: other modules than this peer: ${p.modulesDiffer}`);
    }
    return { doc: r, text: lines.join("\n") };
  },
};
