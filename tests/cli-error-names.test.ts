import fs from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CliKit } from "./fixtures/daemon-cli.ts";
import type { DaemonProcess } from "./fixtures/daemon-cli.ts";

// Errors and log lines that name an entity show its display name beside the id, through the CLI binary.
const kit = new CliKit();
let show = "";
let daemon: DaemonProcess;
let cue = "";

beforeAll(async () => {
  await kit.build();
  show = await kit.newShow();
  // A script that writes a field its capabilities do not cover, run by hand and by a trigger.
  fs.appendFileSync(
    path.join(show, "openprod.toml"),
    `
[script.relabel]
execution_mode = "autoCommit"
capabilities = ["data.write:lighting.cue.number"]

[trigger.relabel_on_hold]
on_field_change = "lighting.cue.status"
when = "new_value == 'hold'"
run_script = "relabel"
mode = "autoCommit"
`,
  );
  fs.writeFileSync(
    path.join(show, "workspace", "scripts", "relabel.lua"),
    `function main()
  local id = args.cue or context.trigger_entity()
  core.set_field(id, "label", "Renamed")
end
`,
  );
  daemon = await kit.daemon(show);
  const r = await kit.run(["create", "lighting_cues", "number=12", "label=Blackout", "--dir", show]);
  expect(r.code, r.stderr).toBe(0);
  cue = r.stdout.trim();
}, 90_000);

afterAll(async () => {
  await daemon?.stop();
  await kit.cleanup();
});

describe("errors and the log name entities beside their ids", () => {
  it("a bad write from the CLI names the entity it was about", async () => {
    const r = await kit.run(["set", cue, "numbr", "3", "--dir", show, "--json"]);
    expect(r.code).not.toBe(0);
    const err = r.json<{ error: { type: string; message: string; details: Record<string, unknown> } }>().error;
    expect(err.message).toContain(`Q12 Blackout (${cue})`);
    expect(err.message).toMatch(/numbr/);
  });

  it("a permission refusal in a script run names the entity", async () => {
    const r = await kit.run(["run", "relabel", "--arg", `cue=${cue}`, "--dir", show, "--json"]);
    const summary = r.json<{ status: string; error?: { type: string; message: string } }>();
    expect(summary.status).toBe("error");
    expect(summary.error?.type).toBe("PermissionDenied");
    expect(summary.error?.message).toContain(`Q12 Blackout (${cue})`);
  }, 30_000);

  it("a trigger's failed run is logged with the entity's name", async () => {
    expect((await kit.run(["set", cue, "status", "hold", "--dir", show])).code).toBe(0);
    const end = Date.now() + 20_000;
    let log = "";
    while (Date.now() < end) {
      log = (await kit.run(["log", "--dir", show])).stdout;
      if (log.includes("trigger relabel_on_hold: the run for")) break;
      await new Promise((r) => setTimeout(r, 300));
    }
    expect(log).toMatch(new RegExp(`trigger relabel_on_hold: the run for Q12 Blackout \\(${cue}\\) failed: PermissionDenied`));
  }, 30_000);
});

describe("an entity of a table this peer's modules do not declare", () => {
  it("is shown as such, not as an empty entity", async () => {
    const other = await kit.newShow();
    const d = await kit.daemon(other, ["--no-network"]);
    const created = await kit.run(["create", "contacts", "name=Ann", "--dir", other]);
    expect(created.code, created.stderr).toBe(0);
    await d.stop();
    // This peer no longer runs the stage-management module that declares `contacts`.
    fs.rmSync(path.join(other, "modules", "sm"), { recursive: true });
    const r = await kit.run(["get", created.stdout.trim(), "--dir", other]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain("warning: table contacts is not declared by this peer's modules");
    const j = await kit.run(["get", created.stdout.trim(), "--dir", other, "--json"]);
    expect(j.json<{ entity: { undeclaredTables: string[] } }>().entity.undeclaredTables).toEqual(["contacts"]);
  }, 60_000);
});
