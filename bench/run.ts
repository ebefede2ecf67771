/**
 * `npm run bench` prints a readable table; `npm run bench -- --json` prints one
 * JSON object per line: {"name", "value", "unit"}. `--only a,b` runs only the
 * named suites. `--compare <previous.jsonl>` puts each figure beside the same
 * figure of an earlier `--json` run, with the ratio now / then. `--smoke` runs
 * every suite at a tiny size (what `npm test` does): it proves each figure is
 * still produced and finite, and its values mean nothing.
 *
 * Each suite runs in a process of its own (this script again, with `--in-process`):
 * a suite's figures must not depend on what an earlier suite left in the process
 * (Automerge's wasm memory never shrinks, so RSS figures after the 100k store
 * suite measured nothing). `--in-process` runs the selected suites here instead.
 *
 * Each suite is a module exporting `run(report)`. The run ends non-zero when a
 * suite fails (a figure that needs a system package fails with how to get it:
 * `npm run bench:setup`), reports nothing, or reports a value that is not finite.
 */
import { spawn } from "node:child_process";
import fs from "node:fs";
import { fileURLToPath } from "node:url";
import { SMOKE_ENV } from "./scale.ts";

type Report = (name: string, value: number, unit: string) => void;
interface Suite {
  name: string;
  load: () => Promise<{ run: (report: Report) => Promise<void> }>;
}
interface Row {
  name: string;
  value: number;
  unit: string;
}

const suites: Suite[] = [
  { name: "store", load: () => import("./store.ts") },
  { name: "history", load: () => import("./history.ts") },
  { name: "query", load: () => import("./query.ts") },
  { name: "persistence", load: () => import("./persistence.ts") },
  { name: "peer", load: () => import("./peer.ts") },
  { name: "lua-engine", load: () => import("./lua-engine.ts") },
  { name: "triggers", load: () => import("./triggers.ts") },
  { name: "runtime", load: () => import("./runtime.ts") },
  { name: "io", load: () => import("./io.ts") },
  { name: "rpc", load: () => import("./rpc.ts") },
  { name: "packaging", load: () => import("./packaging.ts") },
  { name: "background", load: () => import("./background.ts") },
  { name: "console", load: () => import("./console.ts") },
  { name: "scripttest", load: () => import("./scripttest.ts") },
  { name: "debug", load: () => import("./debug.ts") },
];

const argv = process.argv.slice(2);
const json = argv.includes("--json");
const smoke = argv.includes("--smoke");
const only = optionValue("--only")?.split(",") ?? null;
const compareFile = optionValue("--compare");
const inProcess = argv.includes("--in-process");

function optionValue(flag: string): string | undefined {
  const i = argv.indexOf(flag);
  if (i === -1) return undefined;
  const v = argv[i + 1];
  if (v === undefined || v.startsWith("--")) fail(`${flag} needs a value`);
  return v;
}

function fail(message: string): never {
  process.stderr.write(`bench: ${message}\n`);
  process.exit(2);
}

const unknownSuites = (only ?? []).filter((n) => !suites.some((s) => s.name === n));
if (unknownSuites.length > 0) fail(`--only: no suite named ${unknownSuites.join(", ")} (suites: ${suites.map((s) => s.name).join(", ")})`);
const previous = compareFile === undefined ? null : readPrevious(compareFile);
// Before any suite is loaded: each reads its sizes when it is imported.
if (smoke) process.env[SMOKE_ENV] = "1";

const rows: Row[] = [];
const failures: string[] = [];
let suiteName = "";
let suiteRows = 0;
const report: Report = (name, value, unit) => {
  const row = { name, value: Number.isFinite(value) ? Number(value.toPrecision(6)) : value, unit };
  rows.push(row);
  suiteRows++;
  if (!Number.isFinite(value)) failures.push(`${suiteName}: ${name} is ${value}, not a finite number`);
  const then = previous?.get(name);
  if (json) process.stdout.write(JSON.stringify(then === undefined ? row : { ...row, previous: then, ratio: ratio(row.value, then) }) + "\n");
  else process.stderr.write(`  ${name} = ${row.value} ${unit}\n`);
};

for (const suite of suites) {
  if (only && !only.includes(suite.name)) continue;
  if (!json) process.stderr.write(`${suite.name}...\n`);
  suiteName = suite.name;
  suiteRows = 0;
  const started = performance.now();
  try {
    if (inProcess) {
      const mod = await suite.load();
      await mod.run(report);
    } else {
      await runIsolated(suite.name);
    }
    if (suiteRows === 0) failures.push(`${suite.name}: reported no figure`);
  } catch (e) {
    failures.push(`${suite.name}: ${(e as Error).message}`);
    process.stderr.write(`bench suite ${suite.name} failed: ${(e as Error).stack ?? String(e)}\n`);
  }
  if (!inProcess) process.stderr.write(`bench suite ${suite.name}: ${suiteRows} figure(s) in ${((performance.now() - started) / 1000).toFixed(1)} s\n`);
}

if (!json) printTable();
if (failures.length > 0) {
  process.stderr.write(`bench: ${failures.length} problem(s):\n${failures.map((f) => `  ${f}\n`).join("")}`);
}
process.exit(failures.length > 0 ? 1 : 0);

/**
 * Runs one suite in a fresh process (same Node flags, same environment: --smoke's size
 * too) and reports its figures here as they come. A suite whose process fails is a failure
 * of this run; what it printed on stderr passes through.
 */
function runIsolated(name: string): Promise<void> {
  const script = fileURLToPath(import.meta.url);
  const args = [...process.execArgv, script, "--in-process", "--json", "--only", name];
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { stdio: ["ignore", "pipe", "inherit"], env: process.env });
    let pending = "";
    const take = (line: string): void => {
      if (line.trim() === "") return;
      let row: Partial<Row>;
      try {
        row = JSON.parse(line) as Partial<Row>;
      } catch {
        process.stderr.write(`${name}: ${line}\n`);
        return;
      }
      if (typeof row.name !== "string" || typeof row.unit !== "string") return;
      report(row.name, typeof row.value === "number" ? row.value : Number.NaN, row.unit);
    };
    child.stdout.on("data", (d: Buffer) => {
      pending += d.toString();
      const lines = pending.split("\n");
      pending = lines.pop() ?? "";
      for (const l of lines) take(l);
    });
    child.on("error", reject);
    child.on("close", (code, signal) => {
      take(pending);
      if (code === 0) resolve();
      else reject(new Error(`its process ended with ${signal ?? `exit code ${code}`}`));
    });
  });
}

function printTable(): void {
  const w = Math.max(...rows.map((r) => r.name.length), 4);
  if (previous === null) {
    process.stdout.write(`${"name".padEnd(w)}  ${"value".padStart(12)}  unit\n`);
    for (const r of rows) process.stdout.write(`${r.name.padEnd(w)}  ${String(r.value).padStart(12)}  ${r.unit}\n`);
    return;
  }
  process.stdout.write(`${"name".padEnd(w)}  ${"value".padStart(12)}  ${"previous".padStart(12)}  ${"ratio".padStart(8)}  unit\n`);
  for (const r of rows) {
    const then = previous.get(r.name);
    const cells = then === undefined ? ["-", "(new)"] : [String(then), ratio(r.value, then).toFixed(3)];
    process.stdout.write(`${r.name.padEnd(w)}  ${String(r.value).padStart(12)}  ${cells[0].padStart(12)}  ${cells[1].padStart(8)}  ${r.unit}\n`);
  }
  const measured = new Set(rows.map((r) => r.name));
  const gone = [...previous.keys()].filter((n) => !measured.has(n));
  if (gone.length > 0 && only === null) process.stdout.write(`not measured in this run: ${gone.join(", ")}\n`);
}

/** now / then; 1 when both are 0. */
function ratio(now: number, then: number): number {
  if (then === 0) return now === 0 ? 1 : Number.POSITIVE_INFINITY;
  return Number((now / then).toPrecision(6));
}

/** An earlier `npm run bench -- --json` output: one {"name","value","unit"} per line; other lines are refused. */
function readPrevious(file: string): Map<string, number> {
  let text: string;
  try {
    text = fs.readFileSync(file, "utf8");
  } catch (e) {
    fail(`--compare: cannot read ${file}: ${(e as Error).message}`);
  }
  const out = new Map<string, number>();
  text.split("\n").forEach((line, i) => {
    if (line.trim() === "") return;
    let row: unknown;
    try {
      row = JSON.parse(line);
    } catch {
      fail(`--compare: ${file}:${i + 1} is not JSON (expected the output of npm run bench -- --json)`);
    }
    const r = row as Partial<Row>;
    // A figure that was not finite then (written as null) has nothing to compare with.
    if (typeof r === "object" && r !== null && r.value === null) return;
    if (typeof r !== "object" || r === null || typeof r.name !== "string" || typeof r.value !== "number") {
      fail(`--compare: ${file}:${i + 1} has no "name" and numeric "value" (expected the output of npm run bench -- --json)`);
    }
    out.set(r.name, r.value);
  });
  return out;
}
