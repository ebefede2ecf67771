/**
 * The benchmark cannot rot unnoticed: every suite of `npm run bench` runs once
 * at its tiny smoke size, as on a fresh clone, and must produce its figures as
 * finite numbers and end with exit 0. The values themselves are not checked
 * (performance lives in bench/, never in timed assertions).
 */
import { spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { ROOT } from "./fixtures/daemon-cli.ts";

interface BenchRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

function bench(args: string[]): Promise<BenchRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["--expose-gc", "--import", "tsx", path.join(ROOT, "bench", "run.ts"), ...args], {
      cwd: ROOT,
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stdout, stderr }));
  });
}

const SUITES = ["store", "history", "query", "persistence", "peer", "lua-engine", "triggers", "runtime", "io", "rpc", "packaging", "background", "scripttest", "debug"];

describe("every bench suite still produces its figures", () => {
  it("npm run bench -- --smoke --json: each suite reports finite figures, and the run exits 0", async () => {
    const r = await bench(["--smoke", "--json"]);
    expect(r.stderr).not.toContain("failed:");
    expect(r.code, r.stderr).toBe(0);
    const rows = r.stdout
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as { name: string; value: unknown; unit: string });
    for (const row of rows) {
      expect(typeof row.value === "number" && Number.isFinite(row.value), `${row.name} = ${String(row.value)}`).toBe(true);
      expect(row.unit).not.toBe("");
    }
    expect(new Set(rows.map((x) => x.name)).size).toBe(rows.length);
    for (const suite of SUITES) {
      const count = Number(new RegExp(`bench suite ${suite}: (\\d+) figure`).exec(r.stderr)?.[1] ?? 0);
      expect(count, `suite ${suite}`).toBeGreaterThan(0);
    }
    // A figure that needs a system package (native lua5.4) is produced, not skipped.
    expect(rows.map((x) => x.name)).toContain("lua.vm_ratio_vs_native");
    expect(rows.map((x) => x.name)).toContain("lua.profile.overhead_ratio");
    expect(rows.map((x) => x.name)).toEqual(expect.arrayContaining(["lua.debug.attached_overhead_ratio", "dap.step.ms.p50"]));
  }, 300_000);

  it("--compare puts each figure beside an earlier run's, with the ratio", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "op-bench-cmp-"));
    try {
      const previous = path.join(dir, "previous.jsonl");
      fs.writeFileSync(previous, [JSON.stringify({ name: "query.parse.us", value: 1000, unit: "us" }), JSON.stringify({ name: "gone.figure", value: 1, unit: "x" })].join("\n") + "\n");
      const r = await bench(["--smoke", "--only", "query", "--compare", previous]);
      expect(r.code, r.stderr).toBe(0);
      const line = r.stdout.split("\n").find((l) => l.startsWith("query.parse.us "));
      const cells = line?.trim().split(/\s+/) ?? [];
      // name, value, previous, ratio, unit
      expect(cells[2]).toBe("1000");
      expect(Number(cells[3])).toBeCloseTo(Number(cells[1]) / 1000, 3);
      expect(r.stdout).toMatch(/^query\.parse_cached\.us\s+\S+\s+-\s+\(new\)/m);

      fs.writeFileSync(previous, "name value\n");
      const bad = await bench(["--compare", previous]);
      expect(bad.code).toBe(2);
      expect(bad.stderr).toContain(`--compare: ${previous}:1 is not JSON`);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);
});
