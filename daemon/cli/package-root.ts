import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

/** The openprod package's folder (holds examples/show), found from this file whether it runs as TypeScript or as a built bundle. */
export function packageRoot(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (fs.existsSync(path.join(dir, "examples", "show", "openprod.toml"))) return dir;
    const up = path.dirname(dir);
    if (up === dir) throw new Error(`cannot find the openprod package (examples/show) above ${fileURLToPath(import.meta.url)}`);
    dir = up;
  }
}

export function exampleShow(): string {
  return path.join(packageRoot(), "examples", "show");
}
