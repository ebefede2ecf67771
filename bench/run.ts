/**
 * `npm run bench` prints a readable table; `npm run bench -- --json` prints one
 * JSON object per line: {"name", "value", "unit"}. `--only a,b` runs only the
 * named suites. Each suite is a module exporting `run(report)`.
 */
type Report = (name: string, value: number, unit: string) => void;
interface Suite {
  name: string;
  load: () => Promise<{ run: (report: Report) => Promise<void> }>;
}

const suites: Suite[] = [
  { name: "store", load: () => import("./store.ts") },
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
];

const argv = process.argv.slice(2);
const json = argv.includes("--json");
const onlyIdx = argv.indexOf("--only");
const only = onlyIdx >= 0 ? new Set(argv[onlyIdx + 1]?.split(",")) : null;

const rows: { name: string; value: number; unit: string }[] = [];
const report: Report = (name, value, unit) => {
  const row = { name, value: Number.isFinite(value) ? Number(value.toPrecision(6)) : value, unit };
  rows.push(row);
  if (json) process.stdout.write(JSON.stringify(row) + "\n");
  else process.stderr.write(`  ${name} = ${row.value} ${unit}\n`);
};

let failed = 0;
for (const suite of suites) {
  if (only && !only.has(suite.name)) continue;
  if (!json) process.stderr.write(`${suite.name}...\n`);
  try {
    const mod = await suite.load();
    await mod.run(report);
  } catch (e) {
    failed++;
    process.stderr.write(`bench suite ${suite.name} failed: ${(e as Error).stack ?? String(e)}\n`);
  }
}

if (!json) {
  const w = Math.max(...rows.map((r) => r.name.length), 4);
  process.stdout.write(`${"name".padEnd(w)}  ${"value".padStart(12)}  unit\n`);
  for (const r of rows) process.stdout.write(`${r.name.padEnd(w)}  ${String(r.value).padStart(12)}  ${r.unit}\n`);
}
process.exit(failed ? 1 : 0);
