import fs from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connect } from "../protocol/index.ts";
import type { Client, DaemonEvent, DialogEvent, RunSummary } from "../protocol/index.ts";
import { CliKit } from "./fixtures/daemon-cli.ts";
import type { DaemonProcess } from "./fixtures/daemon-cli.ts";

const kit = new CliKit();
let show = "";
let daemon: DaemonProcess;
const clients: Client[] = [];

const ASK = `
function main()
  local ok = core.await(ui.dialog.confirm("Take the house to half?"))
  local level = core.await(ui.dialog.select("Which level?", { "50%", "25%" }))
  log.info("answers: " .. tostring(ok) .. " " .. tostring(level))
end
`;

async function client(name: string): Promise<Client> {
  const c = await connect(show, { name });
  clients.push(c);
  return c;
}

function next<T extends DaemonEvent["type"]>(events: DaemonEvent[], type: T, ms = 10_000): Promise<Extract<DaemonEvent, { type: T }>> {
  const end = Date.now() + ms;
  return new Promise((resolve, reject) => {
    const look = (): void => {
      const i = events.findIndex((e) => e.type === type);
      if (i >= 0) return resolve(events.splice(i, 1)[0] as Extract<DaemonEvent, { type: T }>);
      if (Date.now() > end) return reject(new Error(`no ${type} event within ${ms} ms`));
      setTimeout(look, 20);
    };
    look();
  });
}

beforeAll(async () => {
  await kit.build();
  show = await kit.newShow();
  fs.writeFileSync(path.join(show, "workspace", "scripts", "ask_house.lua"), ASK);
  fs.appendFileSync(path.join(show, "openprod.toml"), `\n[script.ask_house]\nexecution_mode = "autoCommit"\non_error = "abort"\ncapabilities = ["ui.dialog"]\n`);
  daemon = await kit.daemon(show, ["--dialog-timeout", "3s", "--no-network"]);
}, 60_000);

afterAll(async () => {
  for (const c of clients) c.close();
  await daemon?.stop();
  await kit.cleanup();
});

describe("a script's dialogs reach the clients and the first answer goes back to the script", () => {
  it("confirm and select answered over the socket: the run ends ok with the answers recorded", async () => {
    const ui = await client("lighting-console");
    const seen: DaemonEvent[] = [];
    await ui.subscribe((e) => void seen.push(e), ["dialog.request", "dialog.closed"]);
    const runner = await client("runner");
    const { runId } = (await runner.request("scripts.run", { script: "ask_house", wait: false })) as { runId: string };

    const confirm = await next(seen, "dialog.request");
    expect(confirm).toMatchObject({ kind: "confirm", message: "Take the house to half?", runId, script: "ask_house", timeoutMs: 3000 });
    expect((await ui.request("dialog.list")).dialogs.map((d: DialogEvent) => d.id)).toEqual([confirm.id]);
    expect(await ui.request("dialog.respond", { id: confirm.id, answer: true })).toEqual({ id: confirm.id, runId });
    expect(await next(seen, "dialog.closed")).toMatchObject({ id: confirm.id, reason: "answered", by: "lighting-console" });

    const select = await next(seen, "dialog.request");
    expect(select).toMatchObject({ kind: "select", options: ["50%", "25%"] });
    await expect(ui.request("dialog.respond", { id: select.id, answer: "75%" })).rejects.toMatchObject({ type: "InvalidOperation", message: expect.stringContaining('one of "50%", "25%"') });
    await ui.request("dialog.respond", { id: select.id, answer: "25%" });
    await expect(ui.request("dialog.respond", { id: select.id, answer: "25%" })).rejects.toMatchObject({ type: "InvalidOperation", message: expect.stringContaining("not waiting for an answer") });

    const r = (await runner.request("runs.wait", { runId })) as RunSummary;
    expect(r.status).toBe("ok");
    const { record } = await runner.request("runs.get", { runId });
    expect(record.inputs).toEqual([
      { kind: "dialog.confirm", value: true },
      { kind: "dialog.select", value: "25%" },
    ]);
    expect(record.log.map((l) => l.message)).toContain("answers: true 25%");
    ui.close();
  });
});

describe("a dialog nobody answers never hangs the script", () => {
  it("a subscribed client that does not answer: the script gets Timeout after the dialog timeout", async () => {
    const ui = await client("silent-console");
    const seen: DaemonEvent[] = [];
    await ui.subscribe((e) => void seen.push(e), ["dialog.request", "dialog.closed"]);
    const started = Date.now();
    const r = (await ui.request("scripts.run", { script: "ask_house" })) as RunSummary;
    expect(r.status).toBe("error");
    expect(r.error).toMatchObject({ type: "Timeout" });
    expect(r.error?.message).toContain("no client answered within 3000 ms");
    expect(Date.now() - started).toBeGreaterThanOrEqual(2900);
    expect(Date.now() - started).toBeLessThan(8000);
    expect(await next(seen, "dialog.closed")).toMatchObject({ reason: "timeout" });
    ui.close();
  });

  it("the only client that could answer disconnects: the script gets Timeout at once, not after the timeout", async () => {
    const ui = await client("leaving-console");
    const seen: DaemonEvent[] = [];
    await ui.subscribe((e) => void seen.push(e), ["dialog.request"]);
    const runner = await client("runner-2");
    const { runId } = (await runner.request("scripts.run", { script: "ask_house", wait: false })) as { runId: string };
    await next(seen, "dialog.request");
    const left = Date.now();
    ui.close();
    const r = (await runner.request("runs.wait", { runId })) as RunSummary;
    expect(r.status).toBe("error");
    expect(r.error?.message).toContain("every client that could answer it disconnected");
    expect(Date.now() - left).toBeLessThan(2500);
  });

  it("with no client listening for dialogs the script fails at once, saying why", async () => {
    const runner = await client("runner-3");
    const r = (await runner.request("scripts.run", { script: "ask_house" })) as RunSummary;
    expect(r.status).toBe("error");
    expect(r.error).toMatchObject({ type: "Timeout" });
    expect(r.error?.message).toContain("no client is subscribed to dialog.request");
  });
});

describe("the scripts methods refuse bad params with the path and what was wrong", () => {
  const bad: [string, unknown, string][] = [
    ["scripts.run", {}, "params.script: is required"],
    ["scripts.run", { script: "ask_house", args: [1] }, "params.args: expected an object"],
    ["scripts.run", { script: "ask_house", commit: "yes" }, "params.commit: expected true or false"],
    ["scripts.run", { script: "ask_house", bogus: 1 }, "params.bogus: unknown key"],
    ["runs.get", { runId: "" }, "params.runId: must not be empty"],
    ["runs.list", { limit: 0 }, "params.limit: must be between 1"],
    ["sessions.get", {}, "params.id: is required"],
    ["sessions.resolve", { id: "s", conflictId: "c", choice: "mine" }, 'params.choice: expected one of "script", "canonical"'],
    ["sessions.resolveBulk", { id: "s", choice: 1 }, "params.choice: expected one of"],
    ["dialog.respond", { id: "dlg-1" }, "params.answer: is required"],
    ["triggers.traces", { trigger: 7 }, "params.trigger: expected a string"],
    ["capabilities.revoke", { script: "ask_house" }, "params.capability: is required"],
    ["scripts.start", { script: "" }, "params.script: must not be empty"],
  ];
  it.each(bad)("%s %j", async (method, params, message) => {
    const c = await client("bad-input");
    await expect(c.call(method, params)).rejects.toMatchObject({ message: expect.stringContaining(message) });
  });

  it("unknown scripts, runs, sessions, triggers and dialogs are named in the error", async () => {
    const c = await client("unknowns");
    await expect(c.call("scripts.run", { script: "nope" })).rejects.toMatchObject({ type: "EntityNotFound", message: expect.stringContaining('"nope"') });
    await expect(c.call("runs.wait", { runId: "run-nope" })).rejects.toMatchObject({ type: "EntityNotFound" });
    await expect(c.call("sessions.conflicts", { id: "s-nope" })).rejects.toMatchObject({ type: "EntityNotFound" });
    await expect(c.call("triggers.traces", { trigger: "nope" })).rejects.toMatchObject({ type: "EntityNotFound", message: expect.stringContaining("cue_started") });
    await expect(c.call("dialog.respond", { id: "dlg-999", answer: true })).rejects.toMatchObject({ type: "InvalidOperation" });
    await expect(c.call("capabilities.revoke", { script: "nope", capability: "ui.dialog" })).rejects.toMatchObject({ type: "EntityNotFound" });
  });
});
