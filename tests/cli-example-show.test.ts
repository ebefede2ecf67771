import dgram from "node:dgram";
import fs from "node:fs";
import path from "node:path";
import { encode, Message } from "node-osc";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CliKit, ROOT } from "./fixtures/daemon-cli.ts";
import type { DaemonProcess } from "./fixtures/daemon-cli.ts";
import { freeUdpPort } from "./fixtures/io-kit/ports.ts";
import { until } from "./helpers/until.ts";

// The example show as `openprod init` writes it, run by the real daemon and driven through the CLI
// binary: point cues, the OSC listener that starts with the daemon, Lightwright sync's kept changes.
const kit = new CliKit();
let show = "";
let daemon: DaemonProcess;
let oscPort = 0;
const sender = dgram.createSocket("udp4");

const op = async (...args: string[]): Promise<string> => {
  const r = await kit.run([...args, "--dir", show], 60_000);
  expect(r.code, `${args.join(" ")}: ${r.stderr}`).toBe(0);
  return r.stdout;
};
const json = async <T>(...args: string[]): Promise<T> => JSON.parse(await op(...args, "--json")) as T;
const send = (address: string, ...args: Array<string | number>): Promise<void> =>
  new Promise((resolve, reject) => sender.send(encode(new Message(address, ...args)), oscPort, "127.0.0.1", (e) => (e ? reject(e) : resolve())));

beforeAll(async () => {
  await kit.build();
  show = await kit.newShow();
  // The listener's port: a free one instead of 8000, which another show on this machine may hold.
  oscPort = await freeUdpPort();
  const manifest = path.join(show, "modules", "lighting", "module.toml");
  const text = fs.readFileSync(manifest, "utf8");
  const edited = text.replace('"net.osc:8000-8010"', `"net.osc:${oscPort}"`).replace('port = { type = "int", default = 8000,', `port = { type = "int", default = ${oscPort},`);
  expect(edited).toContain(`default = ${oscPort},`);
  fs.writeFileSync(manifest, edited);
  fs.copyFileSync(path.join(ROOT, "examples", "lightwright", "show.lw6.xml"), path.join(show, "show.lw6"));
  daemon = await kit.daemon(show);
}, 90_000);

afterAll(async () => {
  sender.close();
  await daemon?.stop();
  await kit.cleanup();
});

describe("cue numbers allow point cues", () => {
  it("5.5 is a cue number, named and sorted between 5 and 6", async () => {
    for (const [n, label] of [["6", "Sunset"], ["5", "Dawn"], ["5.5", "Clouds"]]) await op("create", "lighting_cues", `number=${n}`, `label=${label}`, "status=standby");
    const r = await json<{ entities: Array<{ name: string }> }>("query", "table == 'lighting_cues' ORDER BY number");
    expect(r.entities.map((e) => e.name)).toEqual(["Q5 Dawn", "Q5.5 Clouds", "Q6 Sunset"]);
    const table = await op("query", "table == 'lighting_cues' AND number > ? ORDER BY number DESC", "5");
    expect(table.indexOf("Q6 Sunset")).toBeLessThan(table.indexOf("Q5.5 Clouds"));
  });
});

describe("the OSC listener starts with the daemon, on loopback, and takes cue numbers as strings", () => {
  it("is running as a background script as soon as the daemon is up", async () => {
    const ps = await until("the listener in ps", async () => {
      const out = await op("ps");
      return out.includes("lighting/osc_listener") && out.includes("running") ? out : undefined;
    });
    expect(ps).toContain("lighting/osc_listener");
    await until("the listener's start line", async () => {
      const log = await op("log");
      return log.includes(`OSC listener started on port ${oscPort}`) ? log : undefined;
    });
  });

  const statusOf = async (number: number): Promise<string | undefined> => {
    const r = await json<{ entities: Array<{ fields: Record<string, unknown> }> }>("query", "table == 'lighting_cues' AND number == ?", String(number));
    const f = r.entities[0]?.fields ?? {};
    return Object.entries(f).find(([k]) => k.endsWith("status"))?.[1] as string | undefined;
  };

  it('"5.5" as a string fires the point cue', async () => {
    await send("/cue/fire", "5.5");
    await until("cue 5.5 running", async () => ((await statusOf(5.5)) === "running" ? true : undefined));
    expect(await statusOf(5)).toBe("standby");
  });

  it('"5" as a string, 6 as an int and 5.5 as a float all find their cue', async () => {
    await send("/cue/fire", "5");
    await until("cue 5 running", async () => ((await statusOf(5)) === "running" ? true : undefined));
    await send("/cue/fire", 6);
    await until("cue 6 running", async () => ((await statusOf(6)) === "running" ? true : undefined));
    await send("/cue/stop", 5.5);
    await until("cue 5.5 stopped", async () => ((await statusOf(5.5)) === "stopped" ? true : undefined));
  });

  it("a cue number that is no number is logged as not found", async () => {
    await send("/cue/fire", "house");
    await until("the warning", async () => ((await op("log")).includes("Cue not found: house") ? true : undefined));
  });
});

describe("Lightwright sync asks before overwriting a local change, and keeps what you keep", () => {
  const sync = (answer: string): Promise<string> => op("run", "lighting/lightwright_sync", "--arg", "path=show.lw6", "--commit", "--answer", answer);
  const fixture = async (unit: string): Promise<{ id: string; fields: Record<string, unknown> }> => {
    const r = await json<{ entities: Array<{ id: string; fields: Record<string, unknown> }> }>("query", "table == 'lighting_fixtures' AND unit_number == ?", `"${unit}"`);
    return r.entities[0];
  };
  const field = (f: { fields: Record<string, unknown> }, name: string): unknown => Object.entries(f.fields).find(([k]) => k.endsWith(`.${name}`))?.[1];

  it("the first sync creates the rig and asks nothing", async () => {
    const out = await sync("overwrite");
    expect(out).toContain("Sync complete: 40 created, 0 updated, 0 unchanged, 0 local change(s) kept");
    expect(out).not.toContain("dialog:");
  }, 60_000);

  it("a channel changed here is named in a question before the sync overwrites it; kept, it stays", async () => {
    const unit1 = await fixture("1");
    await op("set", unit1.id, "channel", "51");
    const out = await sync("keep");
    expect(out).toMatch(/dialog: 1 value\(s\) were changed here since the last sync and differ from the paperwork: FOH Truss #1 channel: 51 here, 1 in the paperwork\./);
    expect(out).toContain("Sync complete: 0 created, 0 updated, 40 unchanged, 1 local change(s) kept");
    const after = await fixture("1");
    expect(field(after, "channel")).toBe(51);
    expect(field(after, "keep_local")).toEqual(["channel"]);
  }, 60_000);

  it("the next sync keeps it without asking again", async () => {
    const out = await sync("overwrite");
    expect(out).not.toContain("dialog:");
    expect(out).toContain("1 local change(s) kept");
    expect(field(await fixture("1"), "channel")).toBe(51);
  }, 60_000);

  it("a change not kept is overwritten only after the answer says so", async () => {
    const unit2 = await fixture("2");
    await op("set", unit2.id, "channel", "77");
    const out = await sync("overwrite");
    expect(out).toContain("Box Boom SL #2 channel: 77 here, 2 in the paperwork");
    expect(out).toContain("Sync complete: 0 created, 1 updated, 39 unchanged, 1 local change(s) kept");
    expect(field(await fixture("2"), "channel")).toBe(2);
    expect(field(await fixture("1"), "channel")).toBe(51);
  }, 60_000);
});
