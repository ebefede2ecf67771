import { spawn } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { parse } from "smol-toml";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CliKit, ROOT } from "./fixtures/daemon-cli.ts";
import type { DaemonProcess } from "./fixtures/daemon-cli.ts";
import { until as pollUntil } from "./helpers/until.ts";

const kit = new CliKit();
let desk = "";
let a: DaemonProcess;

interface Invite {
  code: string;
  command: string;
  addresses: string[];
  expiresAt: number;
}

/** Joins and syncs take longer than one daemon's answers: a longer default, polled less often. */
function until<T>(what: string, f: () => Promise<T | undefined>, timeoutMs = 30_000): Promise<T> {
  return pollUntil(what, f, timeoutMs, 250);
}

async function invite(): Promise<Invite> {
  const r = await kit.run(["invite", "--dir", desk, "--json"]);
  expect(r.code, r.stderr).toBe(0);
  return r.json<Invite>();
}

/** The printed command's words after `openprod`. */
const words = (command: string): string[] => command.split(" ").slice(1);

beforeAll(async () => {
  await kit.build();
  desk = await kit.newShow();
  a = await kit.daemon(desk);
}, 90_000);

afterAll(async () => {
  await a?.stop();
  await kit.cleanup();
});

describe("a second machine joins a running show with a one-time invite", () => {
  let booth = "";
  let b: DaemonProcess;

  it("invite prints the exact join command with a short code and this peer's address", async () => {
    const r = await kit.run(["invite", "--dir", desk]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^ {2}openprod join \/ip4\/127\.0\.0\.1\/tcp\/\d+\/p2p\/12D3\w+ --code [0-9A-Z]{4}-[0-9A-Z]{4}$/m);
    expect(r.stdout).toMatch(/valid until \d\d:\d\d:\d\d, for one machine/);
  });

  it("join writes a show directory with the key, the configuration and a connect entry, but no store", async () => {
    const entity = await kit.run(["create", "lighting_cues", "number=7", "label=Sunrise", "--dir", desk, "--json"]);
    expect(entity.code, entity.stderr).toBe(0);
    const inv = await invite();
    booth = path.join(kit.tempDir("op-join-"), "booth");
    const r = await kit.run([...words(inv.command), "--dir", booth, "--name", "Booth"]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain(`joined show show (`);
    expect(r.stdout).toContain(`next: openprod daemon --dir ${booth}`);
    expect(fs.readFileSync(path.join(booth, ".openprod", "workspace.key"), "utf8")).toBe(fs.readFileSync(path.join(desk, ".openprod", "workspace.key"), "utf8"));
    expect((fs.statSync(path.join(booth, ".openprod", "workspace.key")).mode & 0o777).toString(8)).toBe("600");
    for (const f of ["modules/lighting/module.toml", "modules/lighting/scripts/osc_listener.lua", "workspace/scripts/renumber_cues.lua"]) {
      expect(fs.readFileSync(path.join(booth, f), "utf8"), f).toBe(fs.readFileSync(path.join(desk, f), "utf8"));
    }
    expect(fs.existsSync(path.join(booth, ".openprod", "store"))).toBe(false);
    const config = parse(fs.readFileSync(path.join(booth, "openprod.toml"), "utf8")) as { peer: { connect: string[]; name: string }; workspace: { id: string } };
    const deskConfig = parse(fs.readFileSync(path.join(desk, "openprod.toml"), "utf8")) as { workspace: { id: string } };
    expect(config.workspace.id).toBe(deskConfig.workspace.id);
    expect(config.peer.connect).toEqual([(await a.ready).addresses[0]]);
    expect(config.peer.name).toBe("Booth");
    // The comments of the example show are kept.
    expect(fs.readFileSync(path.join(booth, "openprod.toml"), "utf8")).toContain("# Every key is described in docs/configuration.md.");
  }, 60_000);

  it("the joined daemon syncs the inviter's entities by itself", async () => {
    b = await kit.daemon(booth);
    const found = await until("the cue on the booth", async () => {
      const q = await kit.run(["query", "table == 'lighting_cues' AND number == 7", "--dir", booth, "--json"]);
      const rows = q.code === 0 ? q.json<{ entities: Array<{ name: string }> }>().entities : [];
      return rows.length === 1 ? rows[0] : undefined;
    });
    expect(found.name).toBe("Q7 Sunrise");
    // Counts that compare across peers: with the same heads, both report the same number of bundles.
    const both = await until("equal heads", async () => {
      const [x, y] = await Promise.all([desk, booth].map(async (d) => (await kit.run(["status", "--dir", d, "--json"])).json<{ heads: string[]; bundles: number; changes: number }>()));
      return [...x.heads].sort().join() === [...y.heads].sort().join() ? [x, y] : undefined;
    });
    expect(both[1].bundles).toBe(both[0].bundles);
    expect(both[0].bundles).toBeGreaterThan(0);
    const peers = await kit.run(["peers", "--dir", desk]);
    expect(peers.stdout).toContain("Booth (");
    await b.stop();
  }, 90_000);

  it("a used code is refused and writes nothing", async () => {
    const inv = await invite();
    const first = await kit.run([...words(inv.command), "--dir", path.join(kit.tempDir("op-join-"), "c")]);
    expect(first.code, first.stderr).toBe(0);
    const again = path.join(kit.tempDir("op-join-"), "d");
    const r = await kit.run([...words(inv.command), "--dir", again]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain("PermissionDenied");
    expect(r.stderr).toContain("the invite code was already used");
    expect(fs.existsSync(again)).toBe(false);
    expect(fs.readdirSync(path.dirname(again))).toEqual([]);
  }, 60_000);

  it("a wrong code is refused with a clear error and writes nothing", async () => {
    const inv = await invite();
    const target = path.join(kit.tempDir("op-join-"), "e");
    const wrong = inv.code === "0000-0000" ? "1111-1111" : "0000-0000";
    const r = await kit.run(["join", inv.addresses[0], "--code", wrong, "--dir", target, "--json"]);
    expect(r.code).not.toBe(0);
    const err = r.json<{ error: { type: string; message: string } }>().error;
    expect(err.type).toBe("PermissionDenied");
    expect(err.message).toContain("the invite code is wrong");
    expect(fs.existsSync(target)).toBe(false);
    // The right code still works after a wrong one.
    const ok = await kit.run([...words(inv.command), "--dir", target]);
    expect(ok.code, ok.stderr).toBe(0);
  }, 60_000);

  it("without a code, with an address lacking the peer id, or into a non-empty folder: usage errors, nothing written", async () => {
    const inv = await invite();
    const noCode = await kit.run(["join", inv.addresses[0], "--dir", path.join(kit.tempDir("op-join-"), "f")]);
    expect(noCode.code).toBe(2);
    expect(noCode.stderr).toContain("join needs --code <code>");
    const bare = inv.addresses[0].replace(/\/p2p\/.*$/, "");
    const noId = await kit.run(["join", bare, "--code", inv.code, "--dir", path.join(kit.tempDir("op-join-"), "g")]);
    expect(noId.stderr).toContain("has no /p2p/<peer id>");
    const full = await kit.run(["join", inv.addresses[0], "--code", inv.code, "--dir", desk]);
    expect(full.stderr).toContain("already exists and is not empty");
    // Neither attempt used the code up.
    const ok = await kit.run(["init", path.join(kit.tempDir("op-join-"), "h"), "--join", inv.addresses[0], "--code", inv.code.toLowerCase().replace("-", "")]);
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.stdout).toContain("joined show");
  }, 60_000);
});

describe("the daemon's start banner", () => {
  it("prints a connect line that is valid TOML as printed, naming this peer", async () => {
    const other = await kit.newShow();
    const child = spawn(process.execPath, [path.join(ROOT, "bin", "openprod.js"), "daemon", "--dir", other], { env: kit.env, stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    try {
      const line = await new Promise<string>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no connect line in 30 s: ${out}`)), 30_000);
        child.stdout.on("data", (d: Buffer) => {
          out += d.toString();
          const l = out.split("\n").find((x) => x.trim().startsWith("connect = "));
          if (l !== undefined) {
            clearTimeout(timer);
            resolve(l);
          }
        });
      });
      expect(out).toContain("run `openprod invite` here");
      const peerId = /peer id +(\S+)/.exec(out)?.[1];
      const parsed = parse(`[peer]\n${line}\n`) as { peer: { connect: string[] } };
      expect(parsed.peer.connect).toEqual([expect.stringMatching(new RegExp(`^/ip4/127\\.0\\.0\\.1/tcp/\\d+/p2p/${peerId}$`))]);
    } finally {
      child.kill("SIGTERM");
      await new Promise((r) => child.once("exit", r));
    }
  }, 60_000);
});
