// A conflict made by two real daemons (two peers editing one cue while apart), resolved in the
// browser: the console shows every competing value with its peer and the choice closes it on both.
import fs from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Browser, BrowserContext } from "playwright-core";
import { connect } from "../protocol/index.ts";
import type { Client } from "../protocol/index.ts";
import { CliKit } from "./fixtures/daemon-cli.ts";
import type { DaemonProcess } from "./fixtures/daemon-cli.ts";
import { goTo, launchBrowser, openConsole, screenshot } from "./fixtures/console-browser.ts";

const kit = new CliKit();
let browser: Browser;
const daemons: DaemonProcess[] = [];
const clients: Client[] = [];
let context: BrowserContext | null = null;

async function until<T>(what: string, probe: () => Promise<T | undefined>, ms = 20_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await probe().catch(() => undefined);
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`${what}: not within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 150));
  }
}

async function label(c: Client, id: string): Promise<unknown> {
  const r = await c.request("get", { id, field: "label" });
  return "value" in r ? r.value : undefined;
}

async function start(dir: string, extra: string[] = []): Promise<{ d: DaemonProcess; c: Client }> {
  const d = await kit.daemon(dir, extra);
  daemons.push(d);
  const c = await connect(dir, { name: "setup" });
  clients.push(c);
  return { d, c };
}

beforeAll(async () => {
  [browser] = await Promise.all([launchBrowser(), kit.build()]);
}, 60_000);

afterAll(async () => {
  await context?.close().catch(() => undefined);
  await browser?.close();
  for (const c of clients) c.close();
  for (const d of daemons) await d.stop().catch(() => undefined);
  await kit.cleanup();
});

describe("a conflict two peers made is resolved in the console", () => {
  it("both labels are offered with their peer; keeping one closes the conflict on both peers", async () => {
    const a = await kit.newShow();
    const b = path.join(kit.tempDir("op-peer-b-"), "show");
    fs.cpSync(a, b, { recursive: true, filter: (src) => !src.includes(`${path.sep}.openprod${path.sep}`) || src.endsWith("workspace.key") });
    const A = await start(a);
    const addr = (await A.d.ready).addresses[0];
    const tomlB = path.join(b, "openprod.toml");
    fs.writeFileSync(tomlB, fs.readFileSync(tomlB, "utf8").replace("connect = []", `connect = ["${addr}"]`));

    const { id } = await A.c.request("entity.create", { tables: ["lighting_cues"], fields: { number: 12, label: "Blackout" } });
    let B = await start(b);
    await until("the cue reaches peer B", async () => ((await label(B.c, id)) === "Blackout" ? true : undefined));
    await B.d.stop();

    // Apart: each peer gives the cue its own label.
    await A.c.request("entity.set", { id, field: "label", value: "Snap to black" });
    B = await start(b, ["--no-network"]);
    await B.c.request("entity.set", { id, field: "label", value: "Slow fade" });
    await B.d.stop();
    B = await start(b);
    const conflict = await until("the conflict opens on peer A", async () => (await A.c.request("conflicts.list")).conflicts.find((c) => c.entity === id));
    expect(conflict.values.map((v) => v.value).sort()).toEqual(["Slow fade", "Snap to black"]);

    const url = ((await A.d.ready) as unknown as { console: string }).console;
    const opened = await openConsole(browser, url, "Ada");
    context = opened.context;
    const page = opened.page;
    await goTo(page, "#/conflicts");
    const card = page.getByRole("article", { name: /^Conflict on/ });
    await card.getByRole("button", { name: /Slow fade/ }).waitFor();
    await card.getByRole("button", { name: /Snap to black/ }).waitFor();
    expect(await card.textContent()).toMatch(/this peer/);
    // The cue is named, not shown by id (its label as every peer shows it for now).
    await card.getByRole("link", { name: /Slow fade|Snap to black/ }).waitFor();
    await screenshot(page, "conflicts");
    await card.getByRole("button", { name: /Slow fade/ }).click();
    await card.waitFor({ state: "detached" });
    await page.getByText("No open conflicts").waitFor();
    expect(await label(A.c, id)).toBe("Slow fade");
    await until("peer B sees the resolution", async () => ((await B.c.request("conflicts.list")).conflicts.some((c) => c.entity === id) ? undefined : true));
    expect(await label(B.c, id)).toBe("Slow fade");
    const { bundles } = await A.c.request("history", { entity: id, limit: 1 });
    expect(bundles[0].meta.actor).toEqual({ kind: "user", name: "console:Ada" });
  }, 90_000);
});
