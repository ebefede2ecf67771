/**
 * Compiles the CLI (and, through its lazy imports, the daemon) to plain
 * JavaScript in `dist/cli/`, so `openprod` starts without a TypeScript loader.
 * Packages stay external; each lazy import becomes its own chunk, so a
 * command that talks to a running daemon loads only the client.
 *
 * Run: `tsx daemon/cli/build.ts [outdir]`.
 */
import path from "node:path";
import { fileURLToPath } from "node:url";
import { packageRoot } from "./package-root.ts";

export async function buildCli(outdir = path.join(packageRoot(), "dist", "cli")): Promise<string> {
  const { build } = await import("esbuild");
  await build({
    entryPoints: [path.join(packageRoot(), "daemon", "cli", "main.ts")],
    outdir,
    bundle: true,
    splitting: true,
    format: "esm",
    platform: "node",
    target: "node20",
    packages: "external",
    logLevel: "warning",
  });
  return outdir;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const out = await buildCli(process.argv[2] ? path.resolve(process.argv[2]) : undefined);
  process.stdout.write(`built ${out}\n`);
}
