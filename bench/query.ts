/**
 * Query figures: parse cost (cached and uncached), and an indexed equality
 * query over 100k entities x 5 fields held in WorkspaceIndexes, compared in
 * the same run with the same query forced to scan.
 * (`query.eq_indexed.us@100k` against the real store is measured elsewhere.)
 */
import { pathToFileURL } from "node:url";
import { WorkspaceIndexes } from "../daemon/crdt/indexes.ts";
import { executeQuery, parseQuery, parseQueryUncached } from "../daemon/crdt/query/index.ts";
import type { QuerySource, ScalarValue } from "../daemon/crdt/query/index.ts";
import { size } from "./scale.ts";

type Report = (name: string, value: number, unit: string) => void;

const N = size(100_000, 1000);
const FIELDS = ["lighting.fixture.unit_number", "lighting.fixture.channel", "lighting.fixture.intensity", "lighting.fixture.name", "lighting.fixture.active"];
const QUERY = "table == 'lighting_fixtures' AND unit_number == ? ORDER BY channel DESC LIMIT 10";

class BenchWorkspace implements QuerySource {
  readonly indexes = new WorkspaceIndexes();
  readonly values = new Map<string, Map<string, unknown>>();

  tableMembers(table: string): ReadonlySet<string> {
    return this.indexes.tableMembers(table);
  }
  allEntities(): Iterable<string> {
    return this.values.keys();
  }
  resolveField(name: string): string {
    return name.includes(".") ? name : `lighting.fixture.${name}`;
  }
  lookupEqual(key: string, value: ScalarValue): Iterable<string> {
    return this.indexes.lookupEqual(key, value, () => this.column(key));
  }
  readField(entityId: string, key: string): unknown {
    return this.values.get(entityId)?.get(key);
  }
  inTable(entityId: string, table: string): boolean {
    return this.indexes.inTable(entityId, table);
  }
  private *column(key: string): Iterable<[string, unknown]> {
    for (const [id, f] of this.values) yield [id, f.get(key)];
  }
}

function percentile(samples: number[], p: number): number {
  const s = [...samples].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
}

function timeEach(n: number, fn: (i: number) => void): number[] {
  const out = new Array<number>(n);
  for (let i = 0; i < n; i++) {
    const t0 = process.hrtime.bigint();
    fn(i);
    out[i] = Number(process.hrtime.bigint() - t0) / 1000;
  }
  return out;
}

export async function run(report: Report): Promise<void> {
  // Parse: distinct strings defeat the cache; the same string hits it.
  const texts = Array.from({ length: size(20_000) }, (_, i) => `${QUERY} ${"".padEnd(i % 7)}`.replace("LIMIT 10", `LIMIT ${i}`));
  for (let i = 0; i < size(2000); i++) parseQueryUncached(texts[i]); // warm up the JIT
  const t0 = process.hrtime.bigint();
  for (const t of texts) parseQueryUncached(t);
  report("query.parse.us", Number(process.hrtime.bigint() - t0) / 1000 / texts.length, "us");
  parseQuery(QUERY);
  const t1 = process.hrtime.bigint();
  const CACHED = size(100_000);
  for (let i = 0; i < CACHED; i++) parseQuery(QUERY);
  report("query.parse_cached.us", Number(process.hrtime.bigint() - t1) / 1000 / CACHED, "us");

  // 100k entities x 5 fields. Heap figures are exact only when run with --expose-gc.
  const gc = (globalThis as { gc?: () => void }).gc ?? (() => {});
  gc();
  const heapBefore = process.memoryUsage().heapUsed;
  const w = new BenchWorkspace();
  for (let i = 0; i < N; i++) {
    const id = `01HZ${String(i).padStart(22, "0")}`;
    w.values.set(
      id,
      new Map<string, unknown>([
        [FIELDS[0], `U${i}`],
        [FIELDS[1], i % 512],
        [FIELDS[2], (i % 101) / 100],
        [FIELDS[3], `Fixture ${i % 1000}`],
        [FIELDS[4], i % 2 === 0],
      ]),
    );
    w.indexes.addToTable(id, "lighting_fixtures");
  }
  gc();
  const heapData = process.memoryUsage().heapUsed;
  const tb = process.hrtime.bigint();
  for (const key of FIELDS) w.lookupEqual(key, 0);
  report("indexes.build_5_fields.ms@100k", Number(process.hrtime.bigint() - tb) / 1e6, "ms");
  gc();
  report("indexes.heap_5_fields.mb@100k", (process.memoryUsage().heapUsed - heapData) / 1e6, "MB");
  report("indexes.heap_workspace_data.mb@100k", (heapData - heapBefore) / 1e6, "MB");

  let found = 0;
  const WARM = size(1000);
  const SAMPLES = size(10_000);
  timeEach(WARM, (i) => (found += executeQuery(parseQuery(QUERY), [`U${(i * 7919) % N}`], w).length)); // warm-up
  const samples = timeEach(SAMPLES, (i) => (found += executeQuery(parseQuery(QUERY), [`U${(i * 7919) % N}`], w).length));
  if (found !== WARM + SAMPLES) throw new Error(`indexed query found ${found} rows, expected ${WARM + SAMPLES}`);
  report("query.eq_indexed_inmemory.us@100k", percentile(samples, 50), "us");
  report("query.eq_indexed_inmemory_p99.us@100k", percentile(samples, 99), "us");

  // Same query with its constraints hidden from the planner: a filtered scan.
  const scanQ = parseQuery(`NOT NOT (${QUERY.split(" ORDER BY")[0]}) ORDER BY channel DESC LIMIT 10`);
  const scans = timeEach(10, (i) => (found += executeQuery(scanQ, [`U${i}`], w).length));
  const scanP50 = percentile(scans, 50);
  report("query.eq_scan_inmemory.us@100k", scanP50, "us");
  report("query.scan_over_indexed.ratio@100k", scanP50 / percentile(samples, 50), "x");
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  await run((name, value, unit) => console.log(JSON.stringify({ name, value: Number(value.toFixed(3)), unit })));
}
