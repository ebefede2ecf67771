/**
 * The spec's OSC listener as a background script of the example show, on a real store: how
 * long from an OSC message on loopback until the bundle it causes is durable (seen on
 * store.onChange, which fires after the write is on disk), and how many messages per second
 * go through the whole path (UDP → Lua → core.set_field → durable bundle) with none lost,
 * compared with back-to-back store.apply of one SetField on the same store (the ceiling: an
 * autoCommit script waits for each bundle to be durable).
 */
import dgram from "node:dgram";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { encode, Message } from "node-osc";
import { loadShow } from "../daemon/config/index.ts";
import { WorkspaceStore, levelPersistence } from "../daemon/crdt/index.ts";
import type { ChangeEvent } from "../daemon/crdt/index.ts";
import { CapabilitySet } from "../daemon/scripts/capabilities/index.ts";
import { createLuaEngine } from "../daemon/scripts/engine/index.ts";
import { VirtualMidiPort } from "../daemon/scripts/io/index.ts";
import { createScriptRuntime, showScripts } from "../daemon/scripts/runtime/index.ts";
import { loadShowTriggers } from "../daemon/triggers/show-triggers.ts";
import { size } from "./scale.ts";

type Report = (name: string, value: number, unit: string) => void;

const EXAMPLE_SHOW = path.resolve(import.meta.dirname, "../examples/show");
const LISTENER = "lighting/osc_listener";
// Both even: every run of sends starts on a fire and ends on a stop, so each message changes something.
const LATENCY_SAMPLES = 2 * size(150);
const STORE_APPLIES = size(500);
const THROUGHPUT_MESSAGES = 2 * size(1500);
/** Messages in flight at most (sent but not yet a durable bundle): flow control, as a console would see. */
const WINDOW = 64;

export async function run(report: Report): Promise<void> {
  const port = await freeUdpPort();
  const root = fs.mkdtempSync(path.join(os.tmpdir(), "openprod-bench-bg-"));
  fs.cpSync(EXAMPLE_SHOW, root, { recursive: true, filter: (src) => !src.includes(`${path.sep}.openprod`) });
  const manifest = path.join(root, "modules", "lighting", "module.toml");
  fs.writeFileSync(
    manifest,
    fs.readFileSync(manifest, "utf8").replace('"net.osc:8000-8010"', `"net.osc:${port}"`).replace('port = { type = "int", default = 8000,', `port = { type = "int", default = ${port},`),
  );
  const show = await loadShow(root);
  const { capabilities } = loadShowTriggers({ config: show.config, modules: show.modules, schema: show.schema });
  const store = await WorkspaceStore.open({ persistence: levelPersistence({ dir: path.join(root, ".openprod", "store") }), schema: show.schema, workspaceId: show.config.workspace.id, peerId: "bench" });
  const engine = createLuaEngine({ maxWorkers: 1, warmWorkers: 1 });
  let started = false;
  const runtime = createScriptRuntime({
    store,
    engine,
    scripts: showScripts({ root, config: show.config, modules: show.modules, readFile: (f) => fs.promises.readFile(f, "utf8") }),
    events: { emit: (e) => void (e.type === "log" && e.message.startsWith("OSC listener started") && (started = true)) },
    dialogs: { ask: async () => null },
    capabilities: (s) => capabilities.get(s.id) ?? CapabilitySet.none,
    midi: new VirtualMidiPort(),
  });
  const sender = dgram.createSocket("udp4");
  try {
    const user = { actor: { kind: "user" as const, name: "bench" } };
    await store.apply([{ op: "CreateEntity", tables: ["lighting_cues"], fields: { number: 12, status: "standby" } }], user);
    const other = (await store.apply([{ op: "CreateEntity", tables: ["lighting_cues"], fields: { number: 999 } }], user)).results[0]?.id as string;
    const a0 = performance.now();
    for (let i = 0; i < STORE_APPLIES; i++) await store.apply([{ op: "SetField", id: other, field: "status", value: `s${i}` }], user);
    const applyRate = STORE_APPLIES / ((performance.now() - a0) / 1000);
    const st = await runtime.startBackground(LISTENER, { args: { port } });
    const deadline = Date.now() + 20_000;
    while (!started) {
      if (Date.now() > deadline) throw new Error("the OSC listener did not start");
      await new Promise((r) => setTimeout(r, 10));
    }
    // Bundles the listener writes: /cue/fire 12 gives two (status, fired_at), /cue/stop 12 one
    // (status); alternating them makes every message change something.
    let bundles = 0;
    let wake: (() => void) | null = null;
    const off = store.onChange((e: ChangeEvent) => {
      for (const b of e.bundles) if (b.meta.origin?.runId === st.runId) bundles++;
      wake?.();
    });
    const until = async (n: number): Promise<void> => {
      const end = Date.now() + 20_000;
      while (bundles < n) {
        if (Date.now() > end) throw new Error(`waited for ${n} bundles, saw ${bundles}`);
        await new Promise<void>((r) => {
          wake = r;
          setTimeout(r, 50);
        });
        wake = null;
      }
    };
    const fire = encode(new Message("/cue/fire", 12));
    const stop = encode(new Message("/cue/stop", 12));
    const send = (i: number): Promise<void> => new Promise((resolve, reject) => sender.send(i % 2 === 0 ? fire : stop, port, "127.0.0.1", (e) => (e ? reject(e) : resolve())));
    /** Bundles caused by the first n messages of a run of sends starting with a fire. */
    const caused = (n: number): number => Math.ceil(n / 2) * 2 + Math.floor(n / 2);

    const samples: number[] = [];
    for (let i = 0; i < LATENCY_SAMPLES; i++) {
      const before = bundles;
      const t0 = performance.now();
      await send(i);
      await until(before + 1);
      samples.push(performance.now() - t0);
      await until(before + (i % 2 === 0 ? 2 : 1)); // the whole message handled: samples do not overlap
    }
    samples.sort((a, b) => a - b);
    report("osc.to_bundle.ms.p50", round(samples[Math.floor(samples.length * 0.5)]), "ms");
    report("osc.to_bundle.ms.p99", round(samples[Math.min(samples.length - 1, Math.floor(samples.length * 0.99))]), "ms");

    const base = bundles;
    const t0 = performance.now();
    for (let sent = 0; sent < THROUGHPUT_MESSAGES; sent++) {
      while (caused(sent) - (bundles - base) >= WINDOW) await until(bundles + 1);
      await send(sent);
    }
    await until(base + caused(THROUGHPUT_MESSAGES));
    const seconds = (performance.now() - t0) / 1000;
    report("osc.listener.msgs_per_s", Math.round(THROUGHPUT_MESSAGES / seconds), "msg/s");
    report("osc.listener.bundle_rate_vs_store_apply", round(caused(THROUGHPUT_MESSAGES) / seconds / applyRate), "ratio");
    off();
  } finally {
    sender.close();
    await runtime.shutdown("bench over");
    await store.close();
    await engine.close();
    fs.rmSync(root, { recursive: true, force: true });
  }
}

function round(ms: number): number {
  return Math.round(ms * 100) / 100;
}

async function freeUdpPort(): Promise<number> {
  const s = dgram.createSocket("udp4");
  await new Promise<void>((r) => s.bind(0, "127.0.0.1", () => r()));
  const port = s.address().port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  await run((name, value, unit) => console.log(JSON.stringify({ name, value, unit })));
}
