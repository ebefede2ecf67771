// The web console in a real browser (Debian's Chromium through playwright-core) against a real
// daemon: what a stage manager does, end to end. Screenshots go to docs/console/ for docs/console.md.
import fs from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { connect } from "../protocol/index.ts";
import type { Client } from "../protocol/index.ts";
import { CliKit } from "./fixtures/daemon-cli.ts";
import type { DaemonProcess } from "./fixtures/daemon-cli.ts";
import { goTo, launchBrowser, openConsole, screenshot } from "./fixtures/console-browser.ts";

const HOUSE = `
function main()
  ui.progress.start("Fading the house", { total = 3 })
  for i = 1, 3 do
    core.await(core.sleep(150))
    ui.progress.update(i)
  end
  local ok = core.await(ui.dialog.confirm("Take the house to half?"))
  ui.progress.complete()
  if ok then ui.toast("House at half") else ui.toast.warn("House left as it was") end
end
`;

const GO_TO = `
function main()
  ui.navigate.to_entity(args.id)
end
`;

const STANDBY = `
function main()
  ui.navigate.to_view("lighting_cues")
  ui.navigate.filter({ status = "standby" })
  ui.navigate.sort("number", "desc")
end
`;

const WAITS = `
function main()
  log.info("holding until cancelled")
  while not context.cancelled() do core.await(core.sleep(20)) end
end
`;

const DIM_ALL = `
function main()
  for _, f in ipairs(core.query("table == 'lighting_fixtures'")) do
    core.set_field(f.id, "intensity", 0.5)
  end
end
`;

const CALL_CREW = `
function main()
  local who = core.await(ui.dialog.prompt("Who calls the show tonight?"))
  local where = core.await(ui.dialog.select("Where from?", { "Prompt desk", "Booth", "Fly floor" }))
  ui.toast(args.greeting .. ", " .. tostring(who) .. " at " .. tostring(where) .. " x" .. args.times)
end
`;

const TOML = `
[script.call_crew]
description = "Asks who calls the show and from where, then greets them"
execution_mode = "autoCommit"
capabilities = ["ui.dialog", "ui.notify"]

[script.call_crew.args]
greeting = { type = "string", help = "what the caller is greeted with" }
times = { type = "int", default = 2, help = "how many times" }

[script.dim_all]
execution_mode = "session"
isolation = "snapshot"
capabilities = ["data.write:lighting.fixture.intensity"]

[script.waits]
execution_mode = "autoCommit"

[script.show_standby]
execution_mode = "autoCommit"
capabilities = ["ui.navigate"]

[script.house_to_half]
execution_mode = "autoCommit"
capabilities = ["ui.dialog", "ui.notify"]

[script.go_to]
execution_mode = "autoCommit"
capabilities = ["ui.navigate"]
`;

const kit = new CliKit();
let show = "";
let daemon: DaemonProcess;
let url = "";
let browser: Browser;
let socket: Client;
let scene = "";
const cues: string[] = [];
const contexts: BrowserContext[] = [];

async function person(name: string | null, hash = ""): Promise<Page> {
  const { context, page } = await openConsole(browser, url, name);
  contexts.push(context);
  if (hash) await goTo(page, hash);
  return page;
}

/** Waits until no session is opened for a while, then discards them all (the setup's own trigger runs). */
async function discardSetupSessions(): Promise<void> {
  let last = -1;
  for (let stable = 0; stable < 4; ) {
    await new Promise((r) => setTimeout(r, 250));
    const n = (await socket.request("sessions.list")).sessions.length;
    stable = n === last ? stable + 1 : 0;
    last = n;
  }
  for (const s of (await socket.request("sessions.list")).sessions) await socket.request("sessions.discard", { id: s.id });
}

async function field(id: string, name: string): Promise<unknown> {
  const r = await socket.request("get", { id, field: name });
  return "value" in r ? r.value : undefined;
}

beforeAll(async () => {
  [browser] = await Promise.all([launchBrowser(), kit.build()]);
  show = await kit.newShow();
  fs.writeFileSync(path.join(show, "workspace", "scripts", "house_to_half.lua"), HOUSE);
  fs.writeFileSync(path.join(show, "workspace", "scripts", "go_to.lua"), GO_TO);
  fs.writeFileSync(path.join(show, "workspace", "scripts", "show_standby.lua"), STANDBY);
  fs.writeFileSync(path.join(show, "workspace", "scripts", "waits.lua"), WAITS);
  fs.writeFileSync(path.join(show, "workspace", "scripts", "dim_all.lua"), DIM_ALL);
  fs.writeFileSync(path.join(show, "workspace", "scripts", "call_crew.lua"), CALL_CREW);
  fs.appendFileSync(path.join(show, "openprod.toml"), TOML);
  daemon = await kit.daemon(show, ["--no-network"]);
  url = ((await daemon.ready) as unknown as { console: string }).console;
  socket = await connect(show, { name: "setup" });
  scene = (await socket.request("entity.create", { tables: ["scenes"], fields: { name: "Act 1" } })).id;
  for (const [i, label] of ["Preshow", "House out", "Lights up"].entries()) {
    const { id } = await socket.request("entity.create", { tables: ["lighting_cues"], fields: { label, number: 0, order_index: i + 1, status: "standby", scene } });
    await socket.request("edge.create", { type: "scene", source: id, target: scene });
    await socket.request("edge.create", { type: "in_cue_list", source: id, target: scene, ...(cues.length ? { after: (await socket.request("edges.ordered", { target: scene, type: "in_cue_list" })).edges.at(-1)?.id } : {}) });
    cues.push(id);
  }
  await discardSetupSessions();
}, 90_000);

afterAll(async () => {
  for (const c of contexts) await c.close().catch(() => undefined);
  await browser?.close();
  socket?.close();
  await daemon?.stop();
  await kit.cleanup();
});

describe("the console opens only with the show's token, and asks who is at it", () => {
  it("a browser without the token is refused", async () => {
    const context = await browser.newContext();
    contexts.push(context);
    const page = await context.newPage();
    const res = await page.goto(new URL(url).origin + "/");
    expect(res?.status()).toBe(401);
    await expect.poll(() => page.textContent("body")).toContain("openprod console");
    await screenshot(page, "refused");
  });

  it("with the printed URL it asks the person's name once, and keeps it in the browser", async () => {
    const page = await person(null);
    expect(new URL(page.url()).search).toBe("");
    await page.getByLabel("Name").fill("Stage manager");
    await screenshot(page, "name");
    await page.getByRole("button", { name: "Open the console" }).click();
    await page.getByText("live", { exact: true }).waitFor();
    await page.getByText("console:Stage manager").waitFor();
    await page.reload();
    await page.getByText("console:Stage manager").waitFor();
  });
});

describe("running a script: progress, its dialog answered in the browser, its toast", () => {
  it("the dialog shows in every open console; the first answer wins and closes it everywhere", async () => {
    const ada = await person("Ada", "#/scripts");
    const ben = await person("Ben", "#/scripts");
    await ada.getByRole("button", { name: /^house_to_half/ }).click();
    await ada.getByRole("button", { name: "Run house_to_half" }).click();
    await ada.getByRole("progressbar", { name: "Fading the house" }).waitFor();
    await ada.getByText("Fading the house 3 / 3").waitFor();
    const dialogA = ada.getByRole("dialog", { name: "Take the house to half?" });
    const dialogB = ben.getByRole("dialog", { name: "Take the house to half?" });
    await dialogA.waitFor();
    await dialogB.waitFor();
    await screenshot(ada, "dialog");
    await dialogB.getByRole("button", { name: "Yes" }).click();
    await dialogA.waitFor({ state: "detached" });
    await ada.getByText("House at half").waitFor();
    await ben.getByText("House at half").waitFor();
    await ada.getByText("Fading the house 3 / 3 — done").waitFor();
    await ada.locator(".run .pill-ok").first().waitFor();
    await screenshot(ada, "scripts");
  });
});

describe("the script catalog: what each script does and takes; its prompt and select answered in the browser", () => {
  it("the catalog shows description, args and capabilities; the form offers the declared args", async () => {
    const page = await person("Ada", "#/scripts");
    const item = page.getByRole("button", { name: /^call_crew/ });
    await expect.poll(() => item.textContent()).toMatch(/Asks who calls the show and from where.*args: greeting \(string\), times \(int\).*may: ui\.dialog, ui\.notify/s);
    await expect.poll(() => page.getByRole("button", { name: /^renumber_cues/ }).textContent()).toContain("Renumbers a scene's cues");
    await item.click();
    const form = page.getByRole("form", { name: "Run call_crew" });
    await expect.poll(() => form.textContent()).toMatch(/greeting.*string.*what the caller is greeted with · required.*times.*int.*how many times · default 2/s);
    expect(await form.getByLabel(/^times/).getAttribute("placeholder")).toBe("default 2");
    expect(await form.getByLabel("argument 1 name").count()).toBe(0);
    await form.getByLabel(/^greeting/).fill("Good evening");
    await screenshot(page, "script-args");
    await form.getByRole("button", { name: "Run call_crew" }).click();

    const prompt = page.getByRole("dialog", { name: "Who calls the show tonight?" });
    await prompt.getByLabel("Answer").fill("Ada");
    await screenshot(page, "dialog-prompt");
    await prompt.getByRole("button", { name: "OK" }).click();
    await prompt.waitFor({ state: "detached" });

    const select = page.getByRole("dialog", { name: "Where from?" });
    await select.getByRole("radiogroup", { name: "Choices" }).waitFor();
    await select.getByLabel("Booth").check();
    await screenshot(page, "dialog-select");
    await select.getByRole("button", { name: "OK" }).click();
    await select.waitFor({ state: "detached" });

    // Left empty, times takes its declared default.
    await page.getByText("Good evening, Ada at Booth x2").waitFor();
    await page.getByRole("article", { name: "Run of call_crew" }).locator(".pill-ok").waitFor();
  });

  it("a wrong declared argument is refused with the daemon's reason", async () => {
    const page = await person("Ada", "#/scripts");
    await page.getByRole("button", { name: /^call_crew/ }).click();
    const form = page.getByRole("form", { name: "Run call_crew" });
    await form.getByLabel(/^greeting/).fill("Hi");
    await form.getByLabel(/^times/).fill("2.5");
    await form.getByRole("button", { name: "Run call_crew" }).click();
    await page.getByText(/argument times must be a whole number/).waitFor();
    expect(await page.getByRole("dialog").count()).toBe(0);
  });
});

describe("cancelling a run from its panel", () => {
  it("Cancel soft-stops the run: it ends cancelled", async () => {
    const page = await person("Ada", "#/scripts");
    await page.getByRole("button", { name: /^waits/ }).click();
    await page.getByRole("button", { name: "Run waits" }).click();
    const panel = page.getByRole("article", { name: "Run of waits" });
    await panel.getByText("holding until cancelled").waitFor();
    await panel.getByRole("button", { name: "Cancel" }).click();
    await panel.locator(".pill-cancelled").waitFor();
    await expect(socket.request("runs.cancel", { target: "run-nope" })).rejects.toThrow(/run-nope/);
  });
});

describe("reviewing a script's session and committing it", () => {
  it("the overlay reads as field: old → new by cue name; commit puts it in the show", async () => {
    const page = await person("Ada", "#/scripts");
    await page.getByRole("button", { name: /^renumber_cues/ }).click();
    await page.getByLabel(/^scene_id/).fill(scene);
    await page.getByRole("button", { name: "Run renumber_cues" }).click();
    await page.getByRole("button", { name: "Review session" }).first().click();
    const review = page.getByRole("region", { name: "Session review" }).or(page.locator(".session-review"));
    await review.getByRole("article", { name: "Changes to House out" }).waitFor();
    await expect.poll(() => review.getByRole("article", { name: "Changes to House out" }).textContent()).toContain("number: 0 → 2");
    expect(await field(cues[1], "number")).toBe(0);
    await screenshot(page, "session-review");
    await page.getByRole("button", { name: /^Commit 3 change/ }).click();
    await page.getByText("committed: 3 change(s) are now in the show").waitFor();
    expect(await Promise.all(cues.map((c) => field(c, "number")))).toEqual([1, 2, 3]);
    const { bundles } = await socket.request("history", { entity: cues[0], limit: 1 });
    expect(bundles[0].meta.origin?.script ?? bundles[0].meta.actor).toBeTruthy();
  });
});

describe("the workspace grid is live: an edit in one browser appears in another", () => {
  it("Ada edits a cue's label inline; Ben's grid shows it without reloading, and history says console:Ada", async () => {
    const ada = await person("Ada", "#/table/lighting_cues");
    const ben = await person("Ben", "#/table/lighting_cues");
    await ben.locator(`[data-entity="${cues[0]}"] [data-field="label"]`).getByText("Preshow").waitFor();
    await ada.locator(`[data-entity="${cues[0]}"] [data-field="label"]`).dblclick();
    const input = ada.getByLabel(`label of ${cues[0]}`);
    await input.fill("Warm wash");
    await input.press("Enter");
    await ben.locator(`[data-entity="${cues[0]}"] [data-field="label"]`).getByText("Warm wash").waitFor();
    await screenshot(ben, "workspace-grid");
    expect(await field(cues[0], "label")).toBe("Warm wash");
    const { bundles } = await socket.request("history", { entity: cues[0], limit: 1 });
    expect(bundles[0].meta.actor).toEqual({ kind: "user", name: "console:Ada" });
  });

  it("New row creates an entity in the table; Delete (asked twice) removes it", async () => {
    const page = await person("Ada", "#/table/lighting_cues");
    await page.getByRole("status", { name: "row count" }).getByText("3 rows").waitFor();
    await page.getByRole("button", { name: "New row" }).click();
    await page.waitForURL((u) => u.hash.startsWith("#/entity/"));
    const id = decodeURIComponent(new URL(page.url()).hash.slice("#/entity/".length));
    const created = await socket.request("get", { id });
    expect("entity" in created && Object.keys(created.entity.tables)).toEqual(["lighting_cues"]);
    await page.goBack();
    await page.getByRole("status", { name: "row count" }).getByText("4 rows").waitFor();
    const row = page.locator(`[data-entity="${id}"]`);
    await row.getByRole("button", { name: /^Delete/ }).click();
    await row.getByRole("button", { name: /^Confirm delete/ }).click();
    await page.getByRole("status", { name: "row count" }).getByText("3 rows").waitFor();
    await expect(socket.request("get", { id })).rejects.toMatchObject({ data: { type: "EntityNotFound" } });
  });

  it("a query error points at the column", async () => {
    const page = await person("Ada", "#/table/lighting_cues");
    await page.getByLabel("Query").fill("numbr == 1");
    await page.getByLabel("Query").press("Enter");
    const alert = page.getByRole("alert");
    await expect.poll(() => alert.textContent()).toMatch(/unknown field "numbr"/);
    expect(await page.getByLabel("Where the error is").textContent()).toBe("numbr == 1\n^");
    await screenshot(page, "query-error");
  });
});

describe("a cue dragged in the cue list runs the renumber trigger, whose session waits for review", () => {
  it("drag Lights up to the top: the trigger's session renumbers the cues once committed", async () => {
    const page = await person("Ada", `#/cuelist/${encodeURIComponent(`${scene}|in_cue_list`)}`);
    const list = page.getByRole("list", { name: "Cues in running order" });
    await list.locator('[data-cue="Lights up"]').waitFor();
    await page.dragAndDrop('[data-cue="Lights up"]', '[data-cue="Warm wash"]');
    await expect.poll(() => list.locator("li").allTextContents()).toEqual([expect.stringContaining("Lights up"), expect.stringContaining("Warm wash"), expect.stringContaining("House out")]);
    const { edges } = await socket.request("edges.ordered", { target: scene, type: "in_cue_list" });
    expect(edges.map((e) => e.source)).toEqual([cues[2], cues[0], cues[1]]);
    await page.getByRole("link", { name: "review the session" }).waitFor({ timeout: 20_000 });
    await screenshot(page, "cue-list");
    await page.getByRole("link", { name: "review the session" }).click();
    await page.getByRole("article", { name: "Changes to Lights up" }).waitFor();
    expect(await page.getByRole("article", { name: "Changes to Lights up" }).textContent()).toContain("number: 3 → 1");
    await page.getByRole("button", { name: /^Commit 3 change/ }).click();
    await page.getByText("committed: 3 change(s) are now in the show").waitFor();
    expect(await Promise.all(cues.map((c) => field(c, "number")))).toEqual([2, 3, 1]);
  });

  it("the trigger's trace reads as steps", async () => {
    const page = await person("Ada", "#/triggers");
    await page.getByRole("button", { name: /^renumber_on_reorder/ }).click();
    const trace = page.getByRole("article", { name: /^Trace/ }).first();
    await trace.waitFor();
    await expect.poll(() => trace.textContent()).toMatch(/Change.*order_index: 3 → 0.*Scope.*scene → Act 1.*Run.*Outcome/s);
    await screenshot(page, "triggers");
  });
});

describe("a script's ui.navigate moves every open console", () => {
  it("go_to(id) takes the console to that entity's page", async () => {
    const page = await person("Ben", "#/scripts");
    const run = await socket.request("scripts.run", { script: "go_to", args: { id: cues[0] } });
    expect(run).toMatchObject({ status: "ok" });
    await page.waitForURL((u) => u.hash === `#/entity/${encodeURIComponent(cues[0])}`);
    await page.getByRole("heading", { name: /Warm wash/ }).waitFor();
    await page.getByRole("cell", { name: "console:Ada" }).first().waitFor();
    await screenshot(page, "entity");
  });

  it("to_view, filter and sort open a table filtered and sorted", async () => {
    const page = await person("Ben", "#/scripts");
    await socket.request("scripts.run", { script: "show_standby" });
    await page.waitForURL((u) => u.hash === "#/table/lighting_cues?where=status+%3D%3D+%27standby%27&sort=number&dir=desc");
    expect(await page.getByLabel("Query").inputValue()).toBe("status == 'standby'");
    await expect.poll(() => page.locator(".grid-body [data-field='number']").allTextContents()).toEqual(["3", "2", "1"]);
  });
});

describe("a session whose commit meets edits made since it started", () => {
  it("shows each clash side by side; keep canonical for one, then commit the rest", async () => {
    await socket.request("apply", { ops: cues.map((id) => ({ op: "SetField" as const, id, field: "number", value: 0 })) });
    const run = await socket.request("scripts.run", { script: "renumber_cues", args: { scene_id: scene } });
    if (!("sessionId" in run) || run.sessionId === null) throw new Error(`renumber_cues left no session: ${JSON.stringify(run)}`);
    await socket.request("entity.set", { id: cues[2], field: "number", value: 42 });
    const page = await person("Ada", `#/session/${encodeURIComponent(run.sessionId)}`);
    await page.getByRole("button", { name: /^Commit 3 change/ }).click();
    const clash = page.getByRole("region", { name: "Commit conflicts" }).getByLabel("Conflict on number");
    await clash.waitFor();
    expect(await clash.textContent()).toMatch(/Lights up.*Keep script1.*Keep canonical \(setup\)42/s);
    await screenshot(page, "commit-conflicts");
    await clash.getByRole("button", { name: /Keep canonical/ }).click();
    await page.getByRole("button", { name: "Commit with these choices" }).click();
    await page.getByText(/^committed: \d change\(s\) are now in the show$/).waitFor();
    expect(await Promise.all(cues.map((c) => field(c, "number")))).toEqual([2, 3, 42]);
  });
});

describe("many commit conflicts are one choice", () => {
  it("120 clashes: keep canonical for all, opened up first to look", async () => {
    const ops = Array.from({ length: 120 }, (_, i) => ({ op: "CreateEntity" as const, tables: ["lighting_fixtures"], fields: { unit_number: `U${i}`, intensity: 1 } }));
    await socket.request("apply", { ops });
    const run = await socket.request("scripts.run", { script: "dim_all" });
    if (!("sessionId" in run) || run.sessionId === null) throw new Error(`dim_all left no session: ${JSON.stringify(run)}`);
    const { ids } = await socket.request("query", { expr: "table == 'lighting_fixtures'", idsOnly: true });
    await socket.request("apply", { ops: ids.map((id) => ({ op: "SetField" as const, id, field: "intensity", value: 0.8 })) });
    const page = await person("Ada", `#/session/${encodeURIComponent(run.sessionId)}`);
    await page.getByRole("button", { name: /^Commit 120 change/ }).click();
    const panel = page.getByRole("region", { name: "Commit conflicts" });
    await panel.getByText("120 change(s) clash").waitFor();
    expect(await panel.getByLabel("Conflict on intensity").count()).toBe(0);
    await panel.getByRole("button", { name: "Open it up: decide each" }).click();
    expect(await panel.getByLabel("Conflict on intensity").count()).toBe(120);
    await screenshot(page, "bulk-conflicts");
    await panel.getByRole("button", { name: "Keep canonical for all" }).click();
    await page.getByRole("button", { name: "Commit with these choices" }).click();
    await page.getByText(/^committed: \d+ change\(s\) are now in the show$/).waitFor();
    const after = await socket.request("query", { expr: "table == 'lighting_fixtures' AND intensity == 0.8", idsOnly: true });
    expect(after.count).toBe(120);
  });
});

describe("the other views", () => {
  it("log, peers and background scripts", async () => {
    const page = await person("Ada", "#/log");
    await socket.request("scripts.run", { script: "go_to", args: { id: cues[0] } });
    await page.waitForURL((u) => u.hash.startsWith("#/entity/"));
    await goTo(page, "#/log");
    await page.getByRole("list", { name: "Daemon log" }).getByText(/of go_to ended: ok/).first().waitFor();
    await screenshot(page, "log");
    await goTo(page, "#/peers");
    await page.getByText("No peer connected.").waitFor();
    await goTo(page, "#/background");
    await page.getByRole("heading", { name: "Background scripts" }).waitFor();
    await screenshot(page, "background");
  });
});

describe("the cue list from the keyboard", () => {
  it("Alt+↓ on a focused cue moves it one place down", async () => {
    const page = await person("Ada", `#/cuelist/${encodeURIComponent(`${scene}|in_cue_list`)}`);
    const list = page.getByRole("list", { name: "Cues in running order" });
    const before = (await socket.request("edges.ordered", { target: scene, type: "in_cue_list" })).edges.map((e) => e.source);
    await list.locator("li").first().waitFor();
    await list.locator("li").first().focus();
    await page.keyboard.press("Alt+ArrowDown");
    await expect
      .poll(async () => (await socket.request("edges.ordered", { target: scene, type: "in_cue_list" })).edges.map((e) => e.source))
      .toEqual([before[1], before[0], before[2]]);
  });
});

describe("the entity page's history says what each bundle changed", () => {
  it("an edit on the page shows as field: old → new, by whom", async () => {
    const page = await person("Ada", `#/entity/${encodeURIComponent(cues[1])}`);
    const before = String(await field(cues[1], "label"));
    await page.locator(".field-row").filter({ has: page.getByRole("rowheader", { name: "label" }) }).getByRole("gridcell").dblclick();
    const input = page.getByLabel(`label of ${cues[1]}`);
    await input.fill("House to half");
    await input.press("Enter");
    const latest = page.locator("table.history tbody tr").first();
    await expect.poll(() => latest.textContent()).toContain(`label: ${before} → House to half`);
    expect(await latest.textContent()).toContain("console:Ada");
    expect(await field(cues[1], "label")).toBe("House to half");
    await screenshot(page, "entity-history");
  });
});
