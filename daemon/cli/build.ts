/**
 * Compiles the CLI (and, through its lazy imports, the daemon) to plain
 * JavaScript in `dist/cli/`, so `openprod` starts without a TypeScript loader.
 * Packages stay external; each lazy import becomes its own chunk, so a
 * command that talks to a running daemon loads only the client.
 *
 * Also bundles the web console (console/, Preact) into `dist/console/`:
 * app.js, app.css and index.html, everything the daemon serves, so the
 * console needs no network.
 *
 * Run: `tsx daemon/cli/build.ts [outdir] [console outdir]`.
 */
import fs from "node:fs";
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

/** The files the console server serves, besides the bundle esbuild writes. */
const CONSOLE_STATIC = ["index.html", "app.css", "icon.svg"];

export async function buildConsole(outdir = path.join(packageRoot(), "dist", "console")): Promise<string> {
  const { build } = await import("esbuild");
  const src = path.join(packageRoot(), "console");
  await build({
    entryPoints: [path.join(src, "main.tsx")],
    outfile: path.join(outdir, "app.js"),
    bundle: true,
    format: "esm",
    platform: "browser",
    target: "es2022",
    jsx: "automatic",
    jsxImportSource: "preact",
    minify: true,
    sourcemap: false,
    logLevel: "warning",
  });
  for (const f of CONSOLE_STATIC) fs.copyFileSync(path.join(src, f), path.join(outdir, f));
  return outdir;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const out = await buildCli(process.argv[2] ? path.resolve(process.argv[2]) : undefined);
  const web = await buildConsole(process.argv[3] ? path.resolve(process.argv[3]) : undefined);
  process.stdout.write(`built ${out} and ${web}\n`);
}
