/**
 * The web console in Debian's Chromium against an in-process daemon holding
 * a 10,000-entity table:
 * - console.load.ms@10k: from navigation to the table's grid showing its
 *   first rows (page, bundle, WebSocket, the query of 10,000 entities and
 *   the virtualised first screen), median of 5 fresh loads;
 * - console.update.ms.p50: a field set through the Unix socket until its new
 *   value is on screen in an open console, median of 40.
 * Both use the machine's one wall clock (the browser runs here), ms precision.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { startDaemon } from "../daemon/main.ts";
import { buildConsole } from "../daemon/cli/build.ts";
import { connect } from "../protocol/index.ts";
import type { Operation } from "../daemon/crdt/index.ts";
import { launchBrowser, rememberName } from "../tests/fixtures/console-browser.ts";

const ROOT = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const ROWS = 10_000;

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

export async function run(report: (name: string, value: number, unit: string) => void): Promise<void> {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "op-bench-console-"));
  fs.cpSync(path.join(ROOT, "examples", "show"), tmp, { recursive: true });
  const assets = await buildConsole(fs.mkdtempSync(path.join(os.tmpdir(), "op-bench-console-dist-")));
  const daemon = await startDaemon({ showDir: tmp, network: false, scripts: false, console: null, banner: null, consoleAssets: assets });
  const client = await connect(tmp, { name: "bench" });
  const browser = await launchBrowser();
  try {
    for (let i = 0; i < ROWS; i += 5000) {
      const ops: Operation[] = [];
      for (let j = i; j < i + 5000; j++) ops.push({ op: "CreateEntity", tables: ["lighting_cues"], fields: { number: j, label: `Cue ${j}`, order_index: j, status: "standby" } });
      await client.request("apply", { ops });
    }
    const url = daemon.consoleUrl;
    if (url === null) throw new Error("the console is off");
    const table = `${new URL(url).origin}/#/table/lighting_cues`;

    const loads: number[] = [];
    for (let i = 0; i < 5; i++) {
      const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
      await context.addInitScript(rememberName("bench"));
      const page = await context.newPage();
      await page.goto(url); // trades the token for the cookie
      await page.goto("about:blank");
      const t0 = Date.now();
      await page.goto(table);
      await page.locator(".grid-body [data-entity]").first().waitFor({ timeout: 60_000 });
      loads.push(Date.now() - t0);
      const shown = await page.getByRole("status", { name: "row count" }).textContent();
      if (shown !== `${ROWS} rows`) throw new Error(`the grid says ${shown}, expected ${ROWS} rows`);
      await context.close();
    }
    report("console.load.ms@10k", median(loads), "ms");

    const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    await context.addInitScript(rememberName("bench"));
    const page = await context.newPage();
    await page.goto(url);
    await page.goto(table);
    const first = page.locator(".grid-body [data-entity]").first();
    await first.waitFor({ timeout: 60_000 });
    const id = await first.getAttribute("data-entity");
    if (id === null) throw new Error("no entity row in the grid");
    const updates: number[] = [];
    for (let i = 0; i < 40; i++) {
      const value = `bench ${i}`;
      // The page notes when the value shows (wall clock); the write starts after the observer is armed.
      const shown = page.evaluate(whenShown(id, value)) as Promise<number>;
      await page.evaluate("new Promise((r) => requestAnimationFrame(() => r(null)))");
      const t0 = Date.now();
      await client.request("entity.set", { id, field: "label", value });
      updates.push((await shown) - t0);
    }
    report("console.update.ms.p50", median(updates), "ms");
    await context.close();
  } finally {
    await browser.close();
    client.close();
    await daemon.stop();
    fs.rmSync(tmp, { recursive: true, force: true });
    fs.rmSync(assets, { recursive: true, force: true });
  }
}

/** Browser-side: resolves with the wall clock when the entity's label cell shows `want`. */
function whenShown(entity: string, want: string): string {
  return `new Promise((resolve) => {
    const look = () => {
      const cell = document.querySelector(${JSON.stringify(`[data-entity="${entity}"] [data-field="label"]`)});
      if (cell && cell.textContent === ${JSON.stringify(want)}) { resolve(Date.now()); return true; }
      return false;
    };
    if (look()) return;
    const mo = new MutationObserver(() => { if (look()) mo.disconnect(); });
    mo.observe(document.body, { subtree: true, childList: true, characterData: true });
  })`;
}
