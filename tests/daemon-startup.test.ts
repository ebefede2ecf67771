/**
 * Start-up that does not trip over itself: two shows on one machine (the
 * second moves to a free port when its configured one is taken, or says in one
 * line that a port asked for by hand is in use), `npm start` stopped with
 * SIGTERM leaves no daemon behind, and the log never claims an mDNS discovery
 * when mDNS is off.
 */
import { spawn } from "node:child_process";
import fs from "node:fs";
import net from "node:net";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startDaemon } from "../daemon/main.ts";
import type { RunningDaemon } from "../daemon/main.ts";
import { NetworkError } from "../daemon/crdt/errors.ts";
import { createPeerNode, generateWorkspaceKey } from "../daemon/peer/index.ts";
import type { PeerNode } from "../daemon/peer/index.ts";
import { CliKit, ROOT } from "./fixtures/daemon-cli.ts";
import { MemorySyncDocument } from "./helpers/memory-sync-document.ts";

const EXAMPLE = path.join(ROOT, "examples", "show");
const kit = new CliKit();
const running: RunningDaemon[] = [];

beforeAll(() => kit.build(), 60_000);
afterAll(async () => {
  for (const d of running) await d.stop();
  await kit.cleanup();
});

/** A port free right now (the OS picks it), for a show to be configured with. */
async function freePort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, "127.0.0.1", () => r()));
  const port = (s.address() as net.AddressInfo).port;
  await new Promise((r) => s.close(r));
  return port;
}

/** The example show, listening on loopback `port`. */
function show(port: number): string {
  const dir = kit.tempDir("op-start-");
  fs.cpSync(EXAMPLE, dir, { recursive: true, filter: (src) => path.basename(src) !== ".openprod" });
  const toml = path.join(dir, "openprod.toml");
  fs.writeFileSync(toml, fs.readFileSync(toml, "utf8").replace(/^listen = .*$/m, `listen = ["/ip4/127.0.0.1/tcp/${port}"]`));
  return dir;
}

async function daemonOn(dir: string, listen?: string[]): Promise<{ daemon: RunningDaemon; log: string }> {
  const lines: string[] = [];
  const console = new (await import("node:stream")).Writable({
    write(chunk: Buffer, _enc, done) {
      lines.push(chunk.toString());
      done();
    },
  });
  const daemon = await startDaemon({ showDir: dir, listen, scripts: false, console, banner: null });
  running.push(daemon);
  return { daemon, log: lines.join("") };
}

const portOf = (addr: string): number => Number(/\/tcp\/(\d+)/.exec(addr)?.[1]);

describe("two shows on one machine", () => {
  it("the second show, configured with the first one's port, listens on the next free port and says so", async () => {
    const port = await freePort();
    const first = await daemonOn(show(port));
    expect(first.daemon.peer?.addresses().map(portOf)).toEqual([port]);

    const second = await daemonOn(show(port));
    const [addr] = second.daemon.peer?.addresses() ?? [];
    expect(portOf(addr)).not.toBe(port);
    expect(second.log).toContain(`/ip4/127.0.0.1/tcp/${port} is in use (another show on this machine?); listening on /ip4/127.0.0.1/tcp/${portOf(addr)} instead`);
  });

  it("a port asked for with --listen that is taken is one NetworkError line, from startDaemon and from the CLI", async () => {
    const port = await freePort();
    await daemonOn(show(port));
    const other = show(await freePort());

    const refused = startDaemon({ showDir: other, listen: [String(port)], scripts: false, console: null, banner: null });
    await expect(refused).rejects.toBeInstanceOf(NetworkError);
    await expect(refused).rejects.toThrow(`cannot listen on /ip4/127.0.0.1/tcp/${port}: port ${port} is in use`);

    const r = await kit.run(["daemon", "--dir", other, "--listen", `/ip4/127.0.0.1/tcp/${port}`]);
    expect(r.code).toBe(1);
    expect(r.stderr.trim().split("\n")).toEqual([
      `NetworkError: cannot listen on /ip4/127.0.0.1/tcp/${port}: port ${port} is in use (another openprod daemon on this machine?); choose another port with --listen (e.g. --listen ${port + 1}, or --listen 0 for any free one)`,
    ]);
    expect(r.stdout).toBe("");
  });

  it("init --listen writes the show's [peer] listen, and a bad --listen value is a usage error", async () => {
    const dir = path.join(kit.tempDir("op-init-"), "show");
    const r = await kit.run(["init", dir, "--listen", "4102"]);
    expect(r.code).toBe(0);
    expect(fs.readFileSync(path.join(dir, "openprod.toml"), "utf8")).toMatch(/^listen = \["\/ip4\/127\.0\.0\.1\/tcp\/4102"\]$/m);
    const bad = await kit.run(["daemon", "--dir", dir, "--listen", "70000"]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("UsageError: --listen: port 70000 is out of range (0-65535)");
  });
});

describe("stopping npm start stops the daemon", () => {
  it("SIGTERM to npm leaves no daemon process, socket or pid file behind", async () => {
    const dir = path.join(kit.tempDir("op-npmstart-"), "show");
    const npm = spawn("npm", ["start", "--", "--dir", dir, "--listen", "0"], { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    npm.stdout.on("data", (d: Buffer) => (out += d.toString()));
    npm.stderr.on("data", (d: Buffer) => (out += d.toString()));
    const pidFile = path.join(dir, ".openprod", "daemon.pid");
    await until(() => out.includes("daemon ready"), 45_000, () => `npm start to be ready; output: ${out}`);
    const pid = Number(fs.readFileSync(pidFile, "utf8"));
    expect(alive(pid)).toBe(true);

    npm.kill("SIGTERM");
    await until(() => !alive(pid), 20_000, () => `daemon pid ${pid} to exit after npm got SIGTERM; output: ${out}`);
    expect(fs.existsSync(pidFile)).toBe(false);
    expect(fs.existsSync(path.join(dir, ".openprod", "daemon.sock"))).toBe(false);
    expect(out).toContain("shutting down");
  }, 90_000);
});

describe("the log says mDNS only for what mDNS found", () => {
  it("peers that connect with mDNS off never log a discovery by mDNS", async () => {
    const key = generateWorkspaceKey();
    const logs: string[] = [];
    const nodes: PeerNode[] = [];
    try {
      for (let i = 0; i < 3; i++) {
        nodes.push(
          await createPeerNode({
            stateDir: kit.tempDir("op-mdns-"),
            listen: ["/ip4/127.0.0.1/tcp/0"],
            workspaceKey: key,
            mdns: false,
            document: new MemorySyncDocument("ws-mdns"),
            log: (_level, msg) => logs.push(msg),
          }),
        );
      }
      // A full mesh: every peer learns of the others from connections, not from mDNS.
      for (const a of nodes) for (const b of nodes) if (a !== b) await a.connect(b.addresses()[0]);
      await until(() => nodes.every((n) => n.peers().length === 2), 15_000, () => "a full mesh");
      expect(logs.filter((l) => l.includes("syncing with peer")).length).toBeGreaterThan(0);
      expect(logs.filter((l) => /mdns/i.test(l))).toEqual([]);
    } finally {
      for (const n of nodes) await n.stop();
    }
  });

  it("a dial that fails (the peer is not on the allow-list) is not reported as an mDNS discovery, nor redialled as one", async () => {
    const key = generateWorkspaceKey();
    const logs: string[] = [];
    const node = (allowPeers?: string[]): Promise<PeerNode> =>
      createPeerNode({
        stateDir: kit.tempDir("op-mdns-"),
        listen: ["/ip4/127.0.0.1/tcp/0"],
        workspaceKey: key,
        mdns: false,
        allowPeers,
        document: new MemorySyncDocument("ws-mdns"),
        log: (_level, msg) => logs.push(msg),
        connectTimeoutMs: 5000,
      });
    const stranger = await node();
    const strict = await node(["12D3KooWPvm2ZzPZQxzQ7RoM5C4mozUZUfaaVcV6HXdMXZ7NGzNC"]);
    try {
      // The dial writes the stranger into libp2p's address book, which libp2p announces as a "discovery".
      await expect(strict.connect(stranger.addresses()[0])).rejects.toThrow(NetworkError);
      await new Promise((r) => setTimeout(r, 500));
      expect(logs.some((l) => l.includes("not on this peer's allow-list"))).toBe(true);
      expect(logs.filter((l) => /mdns/i.test(l))).toEqual([]);
    } finally {
      await strict.stop();
      await stranger.stop();
    }
  });
});

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function until(check: () => boolean, timeoutMs: number, what: () => string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
