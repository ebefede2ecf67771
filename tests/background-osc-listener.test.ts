import { createHash } from "node:crypto";
import dgram from "node:dgram";
import fs from "node:fs";
import path from "node:path";
import { encode, Message } from "node-osc";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseHlc } from "../daemon/crdt/index.ts";
import { freeUdpPort, until } from "./fixtures/io-kit/ports.ts";
import { LISTENER, listenerShow } from "./fixtures/background-show/show.ts";
import { specExample } from "./fixtures/spec-examples.ts";
import type { ListenerShow } from "./fixtures/background-show/show.ts";

// The specification's "Module Script (OSC Listener)" example, unchanged, as a background
// script of the example show, fed by real UDP packets on loopback.
let show: ListenerShow;
let port: number;
const console_ = dgram.createSocket("udp4");
const USER = { actor: { kind: "user" as const, name: "lighting-programmer" } };

beforeAll(async () => {
  port = await freeUdpPort();
  show = await listenerShow(port, { listener: specExample("modules/lighting/scripts/osc_listener.lua") });
});
afterAll(async () => {
  console_.close();
  await show.close();
});

const fire = (path_: string, ...args: number[]): Promise<void> =>
  new Promise((resolve, reject) => console_.send(encode(new Message(path_, ...args)), port, "127.0.0.1", (e) => (e ? reject(e) : resolve())));
const logs = (level?: string): string[] => show.events.flatMap((e) => (e.type === "log" && e.script === LISTENER && (!level || e.level === level) ? [e.message] : []));

describe("the spec's OSC listener drives the cue list from a lighting console", () => {
  let cue12: string;
  let cue13: string;

  it("is the spec's example, unchanged, and starts listening on the port it is given", async () => {
    const file = path.join("modules", "lighting", "scripts", "osc_listener.lua");
    expect(fs.readFileSync(path.join(show.root, file), "utf8")).toBe(specExample("modules/lighting/scripts/osc_listener.lua"));
    const created = await show.store.apply(
      [
        { op: "CreateEntity", tables: ["lighting_cues"], fields: { number: 12, status: "standby", label: "Preset" } },
        { op: "CreateEntity", tables: ["lighting_cues"], fields: { number: 13, status: "standby", label: "Blackout" } },
      ],
      USER,
    );
    [cue12, cue13] = created.results.map((r) => r?.id as string);
    const st = await show.runtime.startBackground(LISTENER, { args: { port } });
    expect(st.state).toBe("running");
    await until(() => logs().includes(`OSC listener started on port ${port}`), 10_000, "listener start");
  });

  it("/cue/fire 12 marks cue 12 running with an HLC time, navigates to it and toasts", async () => {
    await fire("/cue/fire", 12);
    await until(() => show.store.getField(cue12, "status") === "running", 5000, "cue 12 running");
    await until(() => show.store.getField(cue12, "fired_at") !== null && show.store.getField(cue12, "fired_at") !== undefined, 5000, "fired_at");
    const firedAt = show.store.getField(cue12, "fired_at") as string;
    expect(parseHlc(firedAt).peer).toBe("peer-booth");
    expect(show.store.getField(cue13, "status")).toBe("standby");
    await until(() => show.events.some((e) => e.type === "toast"), 5000, "toast");
    expect(show.events.filter((e) => e.type === "navigate")).toEqual([expect.objectContaining({ action: "to_entity", target: cue12, script: LISTENER })]);
    expect(show.events.filter((e) => e.type === "toast")).toEqual([expect.objectContaining({ level: "info", message: "Cue 12 fired" })]);
    // autoCommit: each change is its own bundle in history, attributed to the script.
    const [latest] = await show.store.history({ entity: cue12, limit: 1 });
    expect(latest.meta.actor).toMatchObject({ kind: "script", name: LISTENER });
    // The bundle names the version that wrote it: the sha-256 of the spec's script text.
    const hash = createHash("sha256").update(specExample("modules/lighting/scripts/osc_listener.lua")).digest("hex");
    expect(latest.meta.origin).toMatchObject({ script: LISTENER, runId: show.runtime.backgroundStatus()[0].runId, hash });
  });

  it("an unknown cue logs a warning and changes nothing", async () => {
    await fire("/cue/fire", 99);
    await until(() => logs("warn").includes("Cue not found: 99"), 5000, "warning");
    expect(show.store.queryIds("table == 'lighting_cues' AND status == 'running'")).toEqual([cue12]);
  });

  it("/cue/stop 12 marks it stopped", async () => {
    await fire("/cue/stop", 12);
    await until(() => show.store.getField(cue12, "status") === "stopped", 5000, "cue 12 stopped");
  });

  it("stopping the script runs on_shutdown, closes the socket and records what it received", async () => {
    const st = await show.runtime.stopBackground(LISTENER, "stopped from the booth");
    expect(st.state).toBe("stopped");
    expect(logs().at(-1)).toBe("OSC listener stopped");
    const rec = await show.runtime.runRecord(st.runId as string);
    expect(rec).toMatchObject({ status: "cancelled", mode: "autoCommit", bundles: 3 });
    expect(rec?.inputs.map((i) => [(i.value as { path: string }).path, (i.value as { args: number[] }).args[0]])).toEqual([
      ["/cue/fire", 12],
      ["/cue/fire", 99],
      ["/cue/stop", 12],
    ]);
    const again = dgram.createSocket("udp4");
    await new Promise<void>((resolve, reject) => {
      again.once("error", reject);
      again.bind(port, () => resolve());
    });
    again.close();
  });
});
