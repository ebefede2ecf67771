import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { ConfigError } from "../daemon/crdt/errors.ts";
import { loadWorkspaceConfig, parseWorkspaceConfig, showDirectory } from "../daemon/config/index.ts";

function thrown(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (e) {
    if (e instanceof ConfigError) return e;
    throw e;
  }
  throw new Error("expected a ConfigError");
}

const FILE = "show/openprod.toml";
const BASE = `[workspace]
name = "Hamlet"
id = "ws-01JAAAA"
`;

describe("openprod.toml names the workspace and sets the store", () => {
  it("the store defaults to no fsync and compaction every 1000 bundles", () => {
    const c = parseWorkspaceConfig(FILE, BASE);
    expect(c.workspace).toEqual({ name: "Hamlet", id: "ws-01JAAAA" });
    expect(c.store).toEqual({ fsync: false, compactEvery: 1000 });
    expect(c.peer).toBeNull();
    expect(c.scripts).toEqual({});
    expect(c.triggers).toEqual({});
  });

  it("reads [store] and passes [peer], [script.*] and [trigger.*] on with their positions", () => {
    const c = parseWorkspaceConfig(
      FILE,
      `${BASE}[store]\nfsync = true\ncompact_every = 50\n[peer]\nlisten = ["/ip4/127.0.0.1/tcp/0"]\n[script.a]\non_error = "abort"\n[trigger.t]\nrun_script = "a"\n`,
    );
    expect(c.store).toEqual({ fsync: true, compactEvery: 50 });
    expect(c.peer?.values).toEqual({ listen: ["/ip4/127.0.0.1/tcp/0"] });
    expect(c.peer?.line).toBe(7);
    expect(c.scripts.a.line).toBe(9);
    expect(c.triggers.t.values).toEqual({ run_script: "a" });
    expect(c.triggers.t.doc.lineOf(["trigger", "t", "run_script"])).toBe(12);
  });
});

describe("a mistake in openprod.toml is reported at its line", () => {
  it("a missing [workspace]", () => {
    expect(thrown(() => parseWorkspaceConfig(FILE, "[store]\n")).message).toContain(`${FILE}: missing [workspace] section`);
  });

  it("a missing or malformed id", () => {
    expect(thrown(() => parseWorkspaceConfig(FILE, '[workspace]\nname = "x"\n')).message).toBe(
      `${FILE}:1: [workspace] id: is required (a string)`,
    );
    expect(thrown(() => parseWorkspaceConfig(FILE, BASE.replace("ws-01JAAAA", "my show"))).message).toBe(
      `${FILE}:3: [workspace] id: "my show" is not a workspace id (letters, digits, ".", "_", "-")`,
    );
  });

  it("wrong types in [store]", () => {
    expect(thrown(() => parseWorkspaceConfig(FILE, `${BASE}[store]\nfsync = "yes"\n`)).message).toBe(
      `${FILE}:5: [store] fsync: expected true or false, got the string "yes"`,
    );
    expect(thrown(() => parseWorkspaceConfig(FILE, `${BASE}[store]\ncompact_every = 2.5\n`)).message).toBe(
      `${FILE}:5: [store] compact_every: expected an integer, got the float 2.5`,
    );
  });

  it("an unknown key or section gets a suggestion", () => {
    expect(thrown(() => parseWorkspaceConfig(FILE, `${BASE}[store]\ncompact_evry = 5\n`)).message).toBe(
      `${FILE}:5: [store] compact_evry: unknown key (did you mean "compact_every"?); allowed keys: fsync, compact_every`,
    );
    expect(thrown(() => parseWorkspaceConfig(FILE, `${BASE}[triggers.x]\n`)).message).toMatch(
      /:4: unknown section \[triggers\] \(did you mean "trigger"\?\)/,
    );
  });

  it("a script name that could not be a file name", () => {
    expect(thrown(() => parseWorkspaceConfig(FILE, `${BASE}[script."../evil"]\n`)).message).toBe(
      `${FILE}:4: [script."../evil"] the name "../evil" must be letters, digits, "_" or "-"`,
    );
  });
});

describe("a show directory", () => {
  const dirs: string[] = [];
  afterEach(() => {
    for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
  });

  it("lays out config, scripts, modules and daemon state under its root", () => {
    const d = showDirectory("some/show");
    const root = path.resolve("some/show");
    expect(d).toEqual({
      root,
      configFile: path.join(root, "openprod.toml"),
      workspaceScripts: path.join(root, "workspace", "scripts"),
      workspaceModules: path.join(root, "workspace", "modules"),
      modulesDir: path.join(root, "modules"),
      stateDir: path.join(root, ".openprod"),
      storeDir: path.join(root, ".openprod", "store"),
      acknowledgedFile: path.join(root, ".openprod", "store.acknowledged"),
    });
  });

  it("without openprod.toml is an error saying where it looked", async () => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), "openprod-config-"));
    dirs.push(root);
    const err = await loadWorkspaceConfig(root).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).message).toContain(`looked for ${path.join(root, "openprod.toml")}`);
    fs.writeFileSync(path.join(root, "openprod.toml"), BASE);
    expect((await loadWorkspaceConfig(root)).file).toBe(path.join(root, "openprod.toml"));
  });
});
