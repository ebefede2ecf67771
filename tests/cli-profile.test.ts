import fs from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CliKit } from "./fixtures/daemon-cli.ts";
import type { DaemonProcess } from "./fixtures/daemon-cli.ts";

const kit = new CliKit();
let show = "";
let daemon: DaemonProcess;

const HOT_LOOP = `
local function crunch(n)
  local s = 0
  for i = 1, n do s = (s + i * 7) % 1000003 end
  return s
end
function main()
  crunch(400000)
  local n = #core.query("table == 'scenes'")
  log.info("scenes: " .. n)
end
`;

const op = (...args: string[]) => kit.run([...args, "--dir", show]);

beforeAll(async () => {
  await kit.build();
  show = await kit.newShow();
  fs.writeFileSync(path.join(show, "workspace", "scripts", "hot_loop.lua"), HOT_LOOP);
  fs.writeFileSync(path.join(show, "workspace", "scripts", "always_profiled.lua"), `function main() core.await(core.sleep(20)) end\n`);
  fs.appendFileSync(path.join(show, "openprod.toml"), `\n[script.hot_loop]\nexecution_mode = "autoCommit"\n\n[script.always_profiled]\nprofile = true\n`);
  daemon = await kit.daemon(show);
}, 90_000);

afterAll(async () => {
  await daemon?.stop();
  await kit.cleanup();
});

describe("a technician finds out why a script is slow", () => {
  let runId = "";
  const out = (): string => path.join(show, "hot.speedscope.json");

  it("run --profile prints where the time went and writes a speedscope file with --out", async () => {
    const r = await op("run", "hot_loop", "--profile", "--out", out(), "--top", "5");
    expect(r.code, r.stdout + r.stderr + daemon.stderr).toBe(0);
    runId = /run (run-\S+):/.exec(r.stdout)?.[1] ?? "";
    expect(runId).not.toBe("");
    expect(r.stdout).toMatch(/where the time went \(top 5\)/);
    expect(r.stdout).toMatch(/lua\s+crunch\s+workspace\/scripts\/hot_loop\.lua:2/);
    expect(r.stdout).toMatch(/core\.query "table == 'scenes'"/);
    expect(r.stdout).toContain(`speedscope file written to ${out()}`);
    const file = JSON.parse(fs.readFileSync(out(), "utf8")) as { $schema: string; profiles: { type: string }[]; shared: { frames: { name: string }[] } };
    expect(file.$schema).toBe("https://www.speedscope.app/file-format-schema.json");
    expect(file.profiles[0].type).toBe("sampled");
    expect(file.shared.frames.map((f) => f.name)).toContain("crunch");
  });

  it("profile <run-id> shows it again from the run record, as text or JSON", async () => {
    const r = await op("profile", runId);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain(`profile of run ${runId} (hot_loop)`);
    expect(r.stdout).toMatch(/crunch/);
    const j = (await op("profile", runId, "--json")).json<{ profile: { hostCalls: { name: string }[]; ops: number } }>();
    expect(j.profile.hostCalls.map((c) => c.name)).toContain("core.query");
  });

  it("a script with profile = true is profiled without asking; an unprofiled run says how to profile it", async () => {
    const r = await op("run", "always_profiled", "--json");
    expect(r.code, r.stderr).toBe(0);
    const id = r.json<{ run_id: string }>().run_id;
    const p = await op("profile", id);
    expect(p.code, p.stderr).toBe(0);
    expect(p.stdout).toMatch(/await\s+sleep/);

    const plain = (await op("run", "hot_loop", "--json")).json<{ run_id: string }>().run_id;
    const bad = await op("profile", plain);
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toContain(`run ${plain} was not profiled: run it with openprod run hot_loop --profile`);
  });

  it("--top must be a positive whole number", async () => {
    const r = await op("profile", runId, "--top", "zero");
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain(`--top must be a positive whole number, got "zero"`);
  });
});
