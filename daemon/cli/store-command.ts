/** `openprod store inspect|recover`: a read-only report of the stored workspace, and getting a damaged store back in service. */
import path from "node:path";
import type { Command, CommandContext } from "./command.ts";
import { UsageError } from "./args.ts";
import { daemonClient } from "./connection.ts";
import { inspectShowStore, recoverShowStore } from "../offline/index.ts";

async function recoverCommand(ctx: CommandContext): Promise<{ doc: unknown; text: string }> {
  // The daemon holds the store: recovering under it would pull its files away.
  const running = await daemonClient(ctx).then(
    (c) => (c.close(), true),
    () => false,
  );
  if (running) throw new UsageError(`a daemon is running for ${path.resolve(ctx.dir)}: stop it first, then run openprod store recover`, "store");
  const { report: r, root, connect: peers } = await recoverShowStore(ctx.dir);
  const text = [
    `kept ${r.kept} bundle(s) that verify${r.acknowledged !== null ? ` (the store had acknowledged ${r.acknowledged})` : ""} and ${r.records} record(s)`,
    r.movedTo ? `the damaged store was moved, as it was, to ${r.movedTo}` : "there was no store left to move aside",
    ...(r.waitingForPeers ? [`${r.waitingForPeers} verified bundle(s) wait for earlier ones a peer will send`] : []),
    `next: openprod daemon --dir ${root}   it syncs the missing bundles from ${peers.length ? peers.join(", ") : "the peers it finds (mDNS) or you connect with openprod peers connect"}`,
  ].join("\n");
  return { doc: r, text };
}

export const STORE_COMMAND: Command = {
  name: "store",
  usage: "openprod store inspect|recover",
  summary: "inspect: read-only report of the stored workspace (exits 1 on damage); recover: get a damaged store back in service",
  details:
    "inspect works with or without a running daemon and never changes anything on disk; it exits 1 when it finds damage, naming the damaged files. " +
    "recover (daemon stopped) keeps every bundle and record that verifies, moves the damaged store aside as it is (.openprod/store.damaged-<time>), " +
    "and starts a new store from what was kept; the next `openprod daemon` syncs the missing bundles from its peers.",
  examples: ["openprod store inspect --json", "openprod store recover && openprod daemon"],
  args: [1, 1],
  async run(ctx) {
    const sub = ctx.args.positional[0];
    if (sub === "recover") return recoverCommand(ctx);
    if (sub !== "inspect") throw new UsageError(`unknown store command "${sub}" (use: openprod store inspect|recover)`, "store");
    const r = await inspectShowStore(ctx.dir);
    const missing = r.acknowledged?.missing ?? [];
    const damaged = r.damaged.length > 0 || r.damagedFiles.length > 0 || missing.length > 0;
    const text = [
      `store ${r.dir}`,
      r.snapshot ? `full save up to bundle #${r.snapshot.uptoSeq} (${r.snapshot.size} bytes)` : "no full save yet",
      `${r.changes.length} recoverable bundle(s) after it${r.changes.length ? ` (#${r.changes[0].seq}..#${r.changes[r.changes.length - 1].seq})` : ""}`,
      ...(r.acknowledged ? [`${r.acknowledged.seq} bundle(s) acknowledged (${r.acknowledged.file}); ${missing.length ? `${missing.length} of them missing` : "all of them present"}`] : []),
      ...r.damagedFiles.map((f) => `damaged file ${f.file}: ${f.reason} at byte ${f.offset} (${f.bytes} byte(s) unreadable)`),
      r.damaged.length ? `${r.damaged.length} damaged record(s):` : damaged ? "" : "nothing damaged",
      ...r.damaged.map((d) => `  ${d.key}: ${d.reason}`),
      ...(damaged ? ["to get this peer back in service: openprod store recover (then start the daemon: it syncs the rest from its peers)"] : []),
    ]
      .filter(Boolean)
      .join("\n");
    ctx.io.stdout.write((ctx.json ? JSON.stringify({ ...r, ok: !damaged }) : text) + "\n");
    return damaged ? 1 : 0;
  },
};
