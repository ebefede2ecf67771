/** `openprod console`: prints the running daemon's web console address (with its token); `--open` opens it in the browser. */
import { spawn } from "node:child_process";
import { daemonClient } from "./connection.ts";
import type { Command } from "./command.ts";

export const CONSOLE_COMMAND: Command = {
  name: "console",
  usage: "openprod console [--open] [--dir <show>]",
  summary: "the web console's address (with its access token); --open opens it in the browser",
  details:
    "The address carries the show's console token once: the browser keeps it as a cookie and drops it from the address bar.\n" +
    "Anyone with this address and access to its port can run the show: share it only with the crew.",
  examples: ["openprod console", "openprod console --open", "openprod console --json"],
  flags: { open: { type: "boolean", help: "open the console in the default browser" } },
  args: [0, 0],
  async run(ctx) {
    const client = await daemonClient(ctx);
    try {
      const { url, urlWithToken } = await client.request("console.url");
      if (ctx.args.flags.open === true) openInBrowser(urlWithToken);
      return { doc: { url, urlWithToken }, text: urlWithToken };
    } finally {
      client.close();
    }
  },
};

function openInBrowser(url: string): void {
  const [cmd, args] = process.platform === "darwin" ? ["open", [url]] : process.platform === "win32" ? ["cmd", ["/c", "start", "", url]] : ["xdg-open", [url]];
  const child = spawn(cmd, args, { detached: true, stdio: "ignore" });
  child.on("error", () => process.stderr.write(`could not start ${cmd}; open ${url} yourself\n`));
  child.unref();
}
