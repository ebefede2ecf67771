#!/usr/bin/env node
// The `openprod` command. Runs the compiled CLI (dist/cli/main.js, built by
// `tsx daemon/cli/build.ts`) when it exists, for a fast start; otherwise the
// TypeScript sources through tsx. OPENPROD_CLI_DIST points at another build.
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const built = path.join(process.env.OPENPROD_CLI_DIST || path.join(root, "dist", "cli"), "main.js");

let cli;
if (fs.existsSync(built)) {
  cli = await import(pathToFileURL(built).href);
} else {
  const { register } = await import("tsx/esm/api");
  register();
  cli = await import(pathToFileURL(path.join(root, "daemon", "cli", "main.ts")).href);
}
const code = await cli.main(process.argv.slice(2));
// Exit only once stdout and stderr have drained: to a pipe they are asynchronous, and
// process.exit() at once would cut a large --json document off (at 64 KiB on Linux).
// A write callback runs after every earlier write on that stream has been flushed.
const drained = (stream) => new Promise((resolve) => stream.write("", () => resolve()));
await Promise.all([drained(process.stdout), drained(process.stderr)]);
process.exit(code);
