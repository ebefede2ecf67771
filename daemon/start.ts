/**
 * `npm start`: runs the daemon on the example show. The example in the
 * repository stays pristine: it is copied on first start to
 * `.openprod-example/` (git-ignored; `npm start -- --dir <path>` picks another
 * place), where the daemon keeps its state. Every other option goes to
 * `openprod daemon` (`npm start -- --listen 4102`).
 */
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { main } from "./cli/index.ts";

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const argv = process.argv.slice(2);
const show = path.resolve(dirOption(argv) ?? path.join(root, ".openprod-example"));
if (!fs.existsSync(path.join(show, "openprod.toml"))) {
  fs.cpSync(path.join(root, "examples", "show"), show, { recursive: true, filter: (src) => path.basename(src) !== ".openprod" });
  process.stdout.write(`copied the example show to ${show}\n`);
}
// npm runs this under `sh -c`, and on SIGTERM npm signals only that shell, which dies without passing it
// on: the daemon would be left holding the port and the store. So it stops when its parent goes.
process.exit(await main(["daemon", "--dir", show, "--stop-with-parent", ...argv]));

/** The last `--dir <path>` or `--dir=<path>`, as `openprod daemon` reads it. */
function dirOption(args: readonly string[]): string | undefined {
  let dir: string | undefined;
  for (let i = 0; i < args.length; i++) {
    if (args[i] === "--dir") dir = args[++i];
    else if (args[i].startsWith("--dir=")) dir = args[i].slice("--dir=".length);
  }
  return dir;
}

