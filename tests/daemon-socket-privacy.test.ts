/**
 * Only the owner reaches the daemon: another user (nobody, in a child process
 * started with that uid; these tests run as root, as on CI) tries to connect to
 * the socket the whole time daemons start and stop under umask 000, in a show
 * whose `.openprod/` was created world-writable.
 */
import { execFileSync, spawn } from "node:child_process";
import type { ChildProcess } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startDaemon } from "../daemon/main.ts";
import { PermissionDenied } from "../daemon/crdt/errors.ts";

const nobody = { uid: Number(execFileSync("id", ["-u", "nobody"]).toString()), gid: Number(execFileSync("id", ["-g", "nobody"]).toString()) };
const EXAMPLE = path.join(import.meta.dirname, "..", "examples", "show");

let tmp = "";
let umask = 0;

beforeAll(() => {
  umask = process.umask(0);
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), "op-priv-"));
  // The other user must be able to walk up to the show directory, as in a shared home or /srv.
  fs.chmodSync(tmp, 0o755);
});

afterAll(() => {
  process.umask(umask);
  fs.rmSync(tmp, { recursive: true, force: true });
});

/** A show copied under umask 000 with `.openprod/` already there, mode 0777. */
function openShow(name: string): string {
  const dir = path.join(tmp, name);
  fs.cpSync(EXAMPLE, dir, { recursive: true, filter: (src) => path.basename(src) !== ".openprod" });
  fs.mkdirSync(path.join(dir, ".openprod"), { mode: 0o777 });
  fs.chmodSync(path.join(dir, ".openprod"), 0o777);
  return dir;
}

interface Prober {
  /** Connections the other user managed to open, and attempts refused. */
  result(): Promise<{ connected: number; refused: number; codes: string[] }>;
}

/** As nobody: connect to `socket` in a tight loop until told to stop (stdin closes). */
function probe(socket: string): Prober {
  const script = `
    const net = require("node:net");
    let connected = 0, refused = 0, stop = false;
    const codes = new Set();
    process.stdin.on("end", () => (stop = true)).resume();
    const once = () => {
      if (stop) { process.stdout.write(JSON.stringify({ connected, refused, codes: [...codes] })); return; }
      const s = net.connect(${JSON.stringify(socket)});
      s.on("connect", () => { connected++; s.destroy(); once(); });
      s.on("error", (e) => { codes.add(e.code); if (e.code === "EACCES") refused++; once(); });
    };
    once();
  `;
  const child: ChildProcess = spawn(process.execPath, ["-e", script], { uid: nobody.uid, gid: nobody.gid, cwd: "/", stdio: ["pipe", "pipe", "inherit"] });
  let out = "";
  child.stdout?.on("data", (d: Buffer) => (out += d.toString()));
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  return {
    async result() {
      child.stdin?.end();
      await exited;
      return JSON.parse(out) as { connected: number; refused: number; codes: string[] };
    },
  };
}

describe("the socket is reachable by the owning user alone", () => {
  it("another user never connects while daemons start and stop under umask 000 (3 tries)", async () => {
    for (let round = 0; round < 3; round++) {
      const show = openShow(`race-${round}`);
      const prober = probe(path.join(show, ".openprod", "daemon.sock"));
      const d = await startDaemon({ showDir: show, network: false, scripts: false, console: null, banner: null });
      const dirMode = fs.statSync(path.join(show, ".openprod")).mode & 0o777;
      const socketMode = fs.statSync(d.socket).mode & 0o777;
      // Let the other user keep trying against the live socket too.
      await new Promise((r) => setTimeout(r, 200));
      await d.stop();
      const r = await prober.result();
      expect(r.connected, `round ${round}: the other user connected`).toBe(0);
      // It did try, and was kept out by permissions (not merely by a missing socket).
      expect(r.refused).toBeGreaterThan(0);
      expect(dirMode.toString(8)).toBe("700");
      expect(socketMode.toString(8)).toBe("600");
    }
  });

  it("a .openprod/ owned by another user is refused with PermissionDenied naming it", async () => {
    const show = openShow("foreign");
    fs.chownSync(path.join(show, ".openprod"), nobody.uid, nobody.gid);
    const started = startDaemon({ showDir: show, network: false, scripts: false, console: null, banner: null });
    await expect(started).rejects.toBeInstanceOf(PermissionDenied);
    await expect(started).rejects.toThrow(`${path.join(show, ".openprod")} belongs to user id ${nobody.uid}`);
    // Nothing was created inside it for that user to reach.
    expect(fs.readdirSync(path.join(show, ".openprod"))).toEqual([]);
  });
});
