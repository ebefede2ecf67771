/** `openprod invite`: a one-time code for `openprod join` on a new machine (through the owner-only socket). */
import { daemonClient } from "./connection.ts";
import type { Command } from "./command.ts";
import { clockTime } from "./display.ts";

export const INVITE_COMMAND: Command = {
  name: "invite",
  usage: "openprod invite [--dir <show>]",
  summary: "let one new machine join this show: prints the `openprod join` command to run there",
  details:
    "Asks the running daemon for a one-time code (valid 10 minutes, for one machine) and prints the command that sets the new machine up: " +
    "workspace key, configuration and a [peer] connect entry pointing here. The code is the only secret to pass on; the new machine must reach " +
    "this one on the printed address (a port the daemon opens while the invite is open).",
  examples: ["openprod invite", "openprod invite --json"],
  args: [0, 0],
  async run(ctx) {
    const client = await daemonClient(ctx);
    try {
      const r = await client.request("invite.create", {});
      return {
        doc: r,
        text: [
          `On the new machine, in an empty folder (or add --dir <new show>), run:`,
          "",
          `  ${r.command}`,
          "",
          `The code is valid until ${clockTime(r.expiresAt)}, for one machine.${r.addresses.length > 1 ? ` Other addresses of this peer: ${r.addresses.slice(1).join(" ")}` : ""}`,
        ].join("\n"),
      };
    } finally {
      client.close();
    }
  },
};
