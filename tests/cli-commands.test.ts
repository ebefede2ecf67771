import fs from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CliKit } from "./fixtures/daemon-cli.ts";
import type { DaemonProcess } from "./fixtures/daemon-cli.ts";

const kit = new CliKit();
let show = "";
let daemon: DaemonProcess;
let cue = "";

beforeAll(async () => {
  await kit.build();
  show = await kit.newShow();
  daemon = await kit.daemon(show);
}, 60_000);

afterAll(async () => {
  await daemon?.stop();
  await kit.cleanup();
});

describe("openprod init writes a working show directory", () => {
  it("has config, modules, scripts, a fresh workspace id and a private workspace key", () => {
    const toml = fs.readFileSync(path.join(show, "openprod.toml"), "utf8");
    expect(toml).toMatch(/^id = "ws-[0-9a-f]{20}"/m);
    expect(toml).toContain("# Stable id written by `openprod init`");
    expect(fs.existsSync(path.join(show, "modules", "lighting", "module.toml"))).toBe(true);
    expect(fs.existsSync(path.join(show, "workspace", "scripts", "renumber_cues.lua"))).toBe(true);
    const key = path.join(show, ".openprod", "workspace.key");
    expect(fs.readFileSync(key, "utf8")).toMatch(/^\/key\/swarm\/psk\/1\.0\.0\/\n\/base16\/\n[0-9a-f]{64}$/);
    expect(fs.statSync(key).mode & 0o777).toBe(0o600);
  });

  it("refuses a directory that is not empty", async () => {
    const r = await kit.run(["init", show, "--json"]);
    expect(r.code).toBe(1);
    expect(r.json<{ error: { type: string; message: string } }>().error).toMatchObject({ type: "InvalidOperation" });
    expect(r.json<{ error: { message: string } }>().error.message).toContain("not empty");
  });
});

describe("a technician creates, queries, sets and reads entities through the CLI", () => {
  it("status shows the running daemon", async () => {
    const r = await kit.run(["status", "--dir", show, "--json"]);
    expect(r.code).toBe(0);
    expect(r.json()).toMatchObject({ running: true, peerId: (await daemon.ready).peerId, entities: 0 });
  });

  it("create, query, set, get and history agree", async () => {
    const created = await kit.run(["create", "lighting_cues", "number=12", "label=Blackout", "--dir", show, "--json"]);
    expect(created.code).toBe(0);
    cue = created.json<{ id: string }>().id;

    const q = await kit.run(["query", "table == 'lighting_cues' AND number == ?", "12", "--dir", show, "--json"]);
    expect(q.json<{ ids: string[] }>().ids).toEqual([cue]);

    const set = await kit.run(["set", cue, "label", "House to half", "--dir", show]);
    expect(set.code).toBe(0);
    expect(set.stdout).toMatch(/^bundle [0-9a-f]{12} at /);
    expect((await kit.run(["set", cue, "number", "13", "--dir", show])).code).toBe(0);

    const got = await kit.run(["get", cue, "--dir", show, "--json"]);
    expect(got.json<{ entity: { fields: Record<string, unknown> } }>().entity.fields).toMatchObject({
      "lighting.cue.label": "House to half",
      "lighting.cue.number": 13,
    });
    const field = await kit.run(["get", cue, "number", "--dir", show]);
    expect(field.stdout.trim()).toBe("13");

    const h = await kit.run(["history", "--entity", cue, "--limit", "2", "--dir", show, "--json"]);
    const bundles = h.json<{ bundles: { meta: { actor: { kind: string; name: string }; ops: number } }[] }>().bundles;
    expect(bundles).toHaveLength(2);
    expect(bundles[0].meta.actor).toEqual({ kind: "app", name: "openprod-cli" });
  });

  it("conflicts and peers report through the daemon", async () => {
    const c = await kit.run(["conflicts", "--dir", show, "--json"]);
    expect(c.json()).toEqual({ conflicts: [], bulk: [] });
    const p = await kit.run(["peers", "--dir", show, "--json"]);
    expect(p.json<{ peerId: string }>().peerId).toBe((await daemon.ready).peerId);
  });
});

describe("bad input gets a clear error and a non-zero exit on every command", () => {
  const cases: [string, string[], string, number][] = [
    ["unknown command", ["frobnicate"], "UsageError", 2],
    ["unknown option", ["status", "--verbose"], "UsageError", 2],
    ["query with bad syntax", ["query", "number ==", "--dir", "$SHOW"], "InvalidOperation", 1],
    ["query with an unknown field", ["query", "numbr == 1", "--dir", "$SHOW"], "InvalidOperation", 1],
    ["query with a missing parameter", ["query", "number == ?", "--dir", "$SHOW"], "InvalidOperation", 1],
    ["get of a missing entity", ["get", "01NOSUCHENTITY000000000000", "--dir", "$SHOW"], "EntityNotFound", 1],
    ["get with too many arguments", ["get", "a", "b", "c", "--dir", "$SHOW"], "UsageError", 2],
    ["set of an unknown field", ["set", "$CUE", "numbr", "1", "--dir", "$SHOW"], "FieldNotFound", 1],
    ["set with a wrongly typed value", ["set", "$CUE", "number", "twelve", "--dir", "$SHOW"], "InvalidOperation", 1],
    ["set with a missing value", ["set", "$CUE", "number", "--dir", "$SHOW"], "UsageError", 2],
    ["create in an unknown table", ["create", "no_such_table", "--dir", "$SHOW"], "InvalidOperation", 1],
    ["history with a bad limit", ["history", "--limit", "-3", "--dir", "$SHOW"], "UsageError", 2],
    ["resolve of a conflict that is not open", ["resolve", "c-nope", "1", "--dir", "$SHOW"], "InvalidOperation", 1],
    ["resolve with both a value and a side", ["resolve", "c-nope", "1", "--ours", "--dir", "$SHOW"], "UsageError", 2],
    ["resolve --bulk without a side", ["resolve", "--bulk", "b-1", "--dir", "$SHOW"], "UsageError", 2],
    ["peers connect to a non-address", ["peers", "connect", "not-an-address", "--dir", "$SHOW"], "NetworkError", 1],
    ["store with an unknown subcommand", ["store", "repair", "--dir", "$SHOW"], "UsageError", 2],
    ["daemon with an unknown log format", ["daemon", "--log-format", "xml", "--dir", "$SHOW"], "UsageError", 2],
    ["a second daemon on the same show", ["daemon", "--dir", "$SHOW"], "StorageError", 1],
    ["status of a directory that is no show", ["status", "--dir", "/"], "ConfigError", 2],
  ];
  for (const [what, args, type, code] of cases) {
    it(what, async () => {
      const real = args.map((a) => a.replace("$SHOW", show).replace("$CUE", cue));
      const asJson = await kit.run([...real, "--json"]);
      expect(asJson.code, asJson.stdout + asJson.stderr).toBe(code);
      const err = asJson.json<{ error: { type: string; message: string } }>().error;
      expect(err.type).toBe(type);
      expect(err.message.length).toBeGreaterThan(10);
    });
  }

  it("without --json the same errors are one readable line on stderr", async () => {
    for (const args of [["frobnicate"], ["get", "01NOSUCHENTITY000000000000", "--dir", show]]) {
      const r = await kit.run(args);
      expect(r.code).not.toBe(0);
      expect(r.stdout).toBe("");
      expect(r.stderr).toMatch(/^(UsageError|EntityNotFound): .{10,}/);
    }
  });

  it("the second daemon names the running one", async () => {
    const r = await kit.run(["daemon", "--dir", show]);
    expect(r.stderr).toContain("another openprod daemon is already running");
    expect(r.stderr).toContain(`pid ${(await daemon.ready).pid}`);
  });
});

describe("help explains every command with an example", () => {
  it("openprod --help lists the commands", async () => {
    const r = await kit.run(["--help"]);
    expect(r.code).toBe(0);
    for (const c of ["init", "daemon", "status", "query", "get", "set", "history", "conflicts", "resolve", "peers", "log", "store"]) {
      expect(r.stdout).toMatch(new RegExp(`^  ${c}\\b`, "m"));
    }
  });

  it("openprod <command> --help shows usage, options and an example", async () => {
    const r = await kit.run(["resolve", "--help"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("usage: openprod resolve");
    expect(r.stdout).toContain("--all-theirs");
    expect(r.stdout).toContain("examples:\n  openprod resolve");
  });
});

describe("read-only commands work without a daemon", () => {
  it("a write without a daemon says none is running and how to start one", async () => {
    const other = await kit.newShow();
    const r = await kit.run(["set", "x", "number", "1", "--dir", other, "--json"]);
    expect(r.code).toBe(3);
    expect(r.json<{ error: { message: string } }>().error.message).toContain(`openprod daemon --dir ${other}`);
  });

  it("after the daemon stops, status, query, get, history and store inspect read the store", async () => {
    const exit = await daemon.stop("SIGTERM");
    expect(exit.code).toBe(0);
    const status = await kit.run(["status", "--dir", show, "--json"]);
    expect(status.json()).toMatchObject({ running: false, entities: 1 });
    const q = await kit.run(["query", "number == 13", "--dir", show, "--json"]);
    expect(q.json<{ ids: string[] }>().ids).toEqual([cue]);
    const g = await kit.run(["get", cue, "label", "--dir", show]);
    expect(g.stdout.trim()).toBe("House to half");
    const h = await kit.run(["history", "--dir", show, "--json"]);
    expect(h.json<{ bundles: unknown[] }>().bundles.length).toBeGreaterThanOrEqual(3);
    const inspect = await kit.run(["store", "inspect", "--dir", show, "--json"]);
    expect(inspect.json<{ damaged: unknown[] }>().damaged).toEqual([]);
    const log = await kit.run(["log", "--dir", show, "--lines", "5"]);
    expect(log.stdout).toContain("daemon stopped");
  });
});
