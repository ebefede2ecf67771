/**
 * `npm start`: runs the daemon on the example show. The example in the
 * repository stays pristine: it is copied on first start to
 * `.openprod-example/` (git-ignored), where the daemon keeps its state.
 */
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { main } from "./cli/main.ts";

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const show = path.join(root, ".openprod-example");
if (!fs.existsSync(path.join(show, "openprod.toml"))) {
  fs.cpSync(path.join(root, "examples", "show"), show, { recursive: true, filter: (src) => path.basename(src) !== ".openprod" });
  process.stdout.write(`copied the example show to ${show}\n`);
}
process.exit(await main(["daemon", "--dir", show, ...process.argv.slice(2)]));
