// Packaging figures: a cached require() call, and parsing a 5,000-fixture Lightwright export
// (the XML parse on the host alone, and the whole lightwright.parse a script awaits).
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { CapabilitySet, parseCapability } from "../daemon/scripts/capabilities/index.ts";
import { createLuaEngine } from "../daemon/scripts/engine/index.ts";
import type { HostBinding } from "../daemon/scripts/engine/index.ts";
import { createFsApi } from "../daemon/scripts/fs/index.ts";
import { createRequireForRun } from "../daemon/scripts/modules/index.ts";
import { createNativeRegistry, lightwrightCapability, parseLightwrightXml } from "../daemon/scripts/native/index.ts";
import { lightwrightExport } from "../tests/fixtures/packaging-lightwright/generate-export.ts";
import { size } from "./scale.ts";

const limits = { timeoutMs: 60_000, memoryBytes: 256 << 20 };
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

export async function run(report: (name: string, value: number, unit: string) => void): Promise<void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "openprod-bench-packaging-"));
  const engine = createLuaEngine({ maxWorkers: 1, warmWorkers: 1 });
  try {
    fs.mkdirSync(path.join(dir, "modules/lighting/exports"), { recursive: true });
    fs.writeFileSync(path.join(dir, "modules/lighting/exports/helpers.lua"), "return { x = 1 }");
    const FIXTURES = size(5000, 10);
    const xml = lightwrightExport(FIXTURES);
    fs.mkdirSync(path.join(dir, "imports"));
    fs.writeFileSync(path.join(dir, "imports/big.lw6.xml"), xml);

    let n = 0;
    const go = async (source: string, bindings: Record<string, HostBinding>, preludeLua = ""): Promise<void> => {
      const o = await engine.run({ runId: `bench-pk-${++n}`, chunkName: "bench.lua", source, globals: {}, bindings, preludeLua, seed: 1, limits }).done;
      if (o.status !== "ok") throw new Error(`bench script failed: ${JSON.stringify(o.error)}`);
    };

    // A cached require against an empty loop of the same length, timed inside Lua.
    const N = size(200_000);
    const timeLoop = async (body: string): Promise<number> => {
      let took = 0;
      const req = createRequireForRun({ showDir: dir, scriptPath: "workspace/scripts/bench.lua" });
      await go(`local r = require r("lighting/helpers") local t0 = clock.now() for i = 1, ${N} do ${body} end clock.done(clock.now() - t0)`, {
        ...req.bindings,
        "clock.now": { kind: "sync", fn: () => performance.now() },
        "clock.done": { kind: "event", fn: (a) => void (took = a[0] as number) },
      }, req.preludeLua);
      return took;
    };
    const withRequire: number[] = [];
    const empty: number[] = [];
    for (let i = 0; i < 3; i++) {
      withRequire.push(await timeLoop(`local m = r("lighting/helpers")`));
      empty.push(await timeLoop(`local m = i`));
    }
    report("require.cached.us", ((median(withRequire) - median(empty)) * 1000) / N, "us");

    // The XML parse alone (host), then the whole call a script makes.
    const parses: number[] = [];
    for (let i = 0; i < 5; i++) {
      const t0 = performance.now();
      parseLightwrightXml(fs.readFileSync(path.join(dir, "imports/big.lw6.xml"), "utf8"), "big.lw6.xml");
      parses.push(performance.now() - t0);
    }
    report("lightwright.parse.ms@5k", median(parses), "ms");

    const capabilities = (): CapabilitySet => new CapabilitySet(["fs.read:imports/*", "native.lightwright"].map(parseCapability));
    const fsApi = createFsApi({ showDir: dir, capabilities });
    const native = createNativeRegistry([lightwrightCapability]).forRun({ files: fsApi.files, capabilities });
    const whole: number[] = [];
    for (let i = 0; i < 3; i++) {
      let took = 0;
      await go(`local t0 = clock.now() local lw = core.await(lightwright.parse("imports/big.lw6.xml")) assert(#lw.fixtures == ${FIXTURES}) clock.done(clock.now() - t0)`, {
        ...fsApi.bindings,
        ...native.bindings,
        "clock.now": { kind: "sync", fn: () => performance.now() },
        "clock.done": { kind: "event", fn: (a) => void (took = a[0] as number) },
      }, fsApi.preludeLua + native.preludeLua);
      whole.push(took);
    }
    report("lightwright.parse_in_lua.ms@5k", median(whole), "ms");
  } finally {
    await engine.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
