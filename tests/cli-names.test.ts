import fs from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { spawn } from "node:child_process";
import { CliKit, ROOT } from "./fixtures/daemon-cli.ts";
import type { DaemonProcess } from "./fixtures/daemon-cli.ts";
import { buildSchema, parseModuleManifest } from "../daemon/config/index.ts";
import { Schema, entityName } from "../daemon/crdt/index.ts";

const kit = new CliKit();
let show = "";
let daemon: DaemonProcess;
let cue = "";

const SCRIPTS: Record<string, string> = {
  // A session that creates a cue, rewrites an existing cue's label to the value it holds, and renames another.
  review_me: `
local existing = core.query_one("table == 'lighting_cues' AND number == ?", 13)
core.set_field(existing.id, "label", "House to half")
core.set_field(existing.id, "number", 14)
local c = core.create_entity({ table = "lighting_cues", fields = { number = 20 } })
core.set_field(c.id, "label", "Finale")
`,
  many_cues: `
for i = 1, 700 do
  core.create_entity({ table = "lighting_cues", fields = { number = 1000 + i, label = string.rep("long label ", 12) .. i } })
end
`,
};

beforeAll(async () => {
  await kit.build();
  show = await kit.newShow();
  const toml = path.join(show, "openprod.toml");
  fs.appendFileSync(
    toml,
    [
      "",
      "[user]",
      'name = "Sam (SM)"',
      "",
      "[script.review_me]",
      'execution_mode = "session"',
      'capabilities = ["data.write:lighting.*"]',
      "",
      "[script.many_cues]",
      'execution_mode = "autoCommit"',
      'capabilities = ["data.write:lighting.*"]',
      "",
    ].join("\n"),
  );
  for (const [name, source] of Object.entries(SCRIPTS)) fs.writeFileSync(path.join(show, "workspace", "scripts", `${name}.lua`), source);
  daemon = await kit.daemon(show);
}, 60_000);

afterAll(async () => {
  await daemon?.stop();
  await kit.cleanup();
});

describe("a table names its entities with its display template, and the CLI shows that name", () => {
  it("get and query show Q<number> <label> beside the id; --json carries the name and the id", async () => {
    cue = (await kit.run(["create", "lighting_cues", "number=12", "label=Blackout", "--dir", show, "--json"])).json<{ id: string }>().id;
    const got = await kit.run(["get", cue, "--dir", show]);
    expect(got.stdout.split("\n")[0]).toBe(`Q12 Blackout  ${cue}`);
    const q = await kit.run(["query", "table == 'lighting_cues'", "--dir", show, "--json"]);
    expect(q.json<{ entities: { id: string; name: string }[] }>().entities[0]).toMatchObject({ id: cue, name: "Q12 Blackout" });
  });

  it("a table without display falls back to a label/name field, else the table and a short id", () => {
    const schema = Schema.empty();
    expect(entityName({ id: "01JF3Q8W0000000000ABCDEF", tables: { scenes: {} }, fields: { "lighting.scene.name": "Act 1" } }, schema)).toBe("Act 1");
    expect(entityName({ id: "01JF3Q8W0000000000ABCDEF", tables: { things: {} }, fields: {} }, schema)).toBe("things …ABCDEF");
  });

  it("a display template naming a field the table's members do not carry is a ConfigError at its line", () => {
    const source = ['[module.m]', 'version = "1.0.0"', "[facet.Cue]", 'number = "int"', "[table.cues]", 'facets = ["Cue"]', 'display = "Q{numbr}"', ""].join("\n");
    const m = parseModuleManifest("/show/modules/m/module.toml", source, "m");
    expect(() => buildSchema([m])).toThrow(/module\.toml:7.*\{numbr\} is not a field/);
  });
});

describe("history says who changed what, by entity name and field, old → new, at a local time", () => {
  it("each bundle lists its changes; the CLI writes as [user] name, or --as", async () => {
    expect((await kit.run(["set", cue, "label", "House to half", "--dir", show])).code).toBe(0);
    expect((await kit.run(["set", cue, "number", "13", "--dir", show, "--as", "Alex (LX)"])).code).toBe(0);
    const h = await kit.run(["history", "--entity", cue, "--limit", "3", "--dir", show]);
    const lines = h.stdout.trim().split("\n");
    expect(lines[0]).toMatch(/^\d\d:\d\d:\d\d {2}Alex \(LX\) {2}on .+ {2}bundle [0-9a-f]{12}$/);
    expect(lines[1]).toMatch(/^ {4}Q13 House to half \(…\w{6}\): number 12 → 13$/);
    expect(lines[2]).toMatch(/^\d\d:\d\d:\d\d {2}Sam \(SM\) /);
    expect(lines[3]).toMatch(/: label Blackout → House to half$/);
    expect(lines[5]).toMatch(/: created in lighting_cues: (label=Blackout, number=12|number=12, label=Blackout)$/);

    const json = await kit.run(["history", "--entity", cue, "--limit", "1", "--dir", show, "--json"]);
    const b = json.json<{ bundles: { meta: { hlc: string; actor: unknown }; changes: { field: string; oldValue: unknown; newValue: unknown }[] }[] }>().bundles[0];
    expect(b.meta.hlc).toMatch(/^\d{15}-\d{6}-/);
    expect(b.meta.actor).toEqual({ kind: "user", name: "Alex (LX)" });
    expect(b.changes).toEqual([expect.objectContaining({ field: "lighting.cue.number", oldValue: 12, newValue: 13 })]);
  });
});

describe("session review shows what a commit would do, by name", () => {
  let session = "";
  it("created entities with their values, changed fields old → new, no-op writes left out", async () => {
    const run = await kit.run(["run", "review_me", "--dir", show, "--json"], 30_000);
    expect(run.code).toBe(0);
    session = run.json<{ session_id: string }>().session_id;
    const r = await kit.run(["session", "show", session, "--dir", show]);
    expect(r.code).toBe(0);
    const lines = r.stdout.split("\n");
    expect(lines).toContainEqual(expect.stringMatching(/^ {2}\+ Q20 Finale \(…\w{6}\): number=20, label=Finale$/));
    expect(lines).toContainEqual(expect.stringMatching(/^ {2}~ Q13 House to half \(…\w{6}\): number 13 → 14$/));
    expect(r.stdout).not.toMatch(/label House to half → House to half/);
    expect(r.stdout).toContain("(1 write(s) of a value the field already holds left out)");
  });

  it("get of an entity only the session created says it exists only in that session", async () => {
    const s = await kit.run(["session", "show", session, "--dir", show, "--json"]);
    const created = s.json<{ changes: { op: string; entity: string }[] }>().changes.find((c) => c.op === "CreateEntity");
    const g = await kit.run(["get", created?.entity ?? "", "--dir", show]);
    expect(g.code).toBe(1);
    expect(g.stderr).toContain(`EntityNotFound: entity ${created?.entity} exists only in session ${session}, not committed`);
  });

  it("a commit that meets a change made since the run names the entity in each conflict", async () => {
    expect((await kit.run(["set", cue, "number", "15", "--dir", show])).code).toBe(0);
    const c = await kit.run(["session", "commit", session, "--dir", show]);
    expect(c.code).toBe(1);
    expect(c.stdout).toMatch(/Q15 House to half \(…\w{6}\) lighting\.cue\.number: script wrote 14, canonical now 15 \(was 13\)/);
    expect((await kit.run(["session", "discard", session, "--dir", show])).code).toBe(0);
  });
});

describe("output a script can trust", () => {
  it("status counts the workspace's bundles (what peers with the same heads agree on), not this peer's storage records", async () => {
    const s = (await kit.run(["status", "--dir", show, "--json"])).json<{ bundles: number; heads: string[] }>();
    const h = (await kit.run(["history", "--limit", "100000", "--dir", show, "--json"])).json<{ bundles: unknown[] }>();
    expect(s.bundles).toBe(h.bundles.length);
    expect((await kit.run(["status", "--dir", show])).stdout).toMatch(new RegExp(`bundles ${s.bundles} `));
  });

  it("a --json document larger than a pipe's buffer arrives whole through a pipe", async () => {
    expect((await kit.run(["run", "many_cues", "--dir", show, "--json"], 60_000)).code).toBe(0);
    const out = await slowReader(["query", "table == 'lighting_cues' AND number > 1000", "--dir", show, "--json"]);
    expect(out.length).toBeGreaterThan(256 * 1024);
    expect((JSON.parse(out) as { entities: unknown[] }).entities).toHaveLength(700);
  });
});

/**
 * Runs the CLI with stdout on a pipe nobody reads for the first two seconds, as a busy
 * consumer would (`openprod ... --json | slow-program`): whatever the CLI had not flushed
 * when it exited is lost, so it must drain the document before it exits.
 */
function slowReader(args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [path.join(ROOT, "bin", "openprod.js"), ...args], { env: kit.env, stdio: ["ignore", "pipe", "inherit"] });
    child.stdout.pause();
    const chunks: Buffer[] = [];
    const timer = setTimeout(() => reject(new Error(`openprod ${args.join(" ")} did not finish`)), 30_000);
    child.stdout.on("data", (d: Buffer) => chunks.push(d));
    child.stdout.on("end", () => {
      clearTimeout(timer);
      resolve(Buffer.concat(chunks).toString());
    });
    setTimeout(() => child.stdout.resume(), 2000);
  });
}
