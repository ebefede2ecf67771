import { spawn } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadShow } from "../daemon/config/index.ts";
import { WorkspaceStore } from "../daemon/crdt/store.ts";
import { levelPersistence } from "../daemon/crdt/persistence/index.ts";
import { connect } from "../protocol/index.ts";
import { CliKit, ROOT } from "./fixtures/daemon-cli.ts";

const kit = new CliKit();
beforeAll(() => kit.build(), 60_000);
afterAll(() => kit.cleanup());

const storeOf = (show: string): string => path.join(show, ".openprod", "store");
const ackOf = (show: string): string => path.join(show, ".openprod", "store.acknowledged");

/** Every data file of the store and its acknowledged record; LOCK and LevelDB's info LOG hold no data. */
function storeBytes(show: string): Record<string, string> {
  const out: Record<string, string> = {};
  const dir = storeOf(show);
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    if (e.isFile() && !["LOCK", "LOG", "LOG.old"].includes(e.name)) out[e.name] = fs.readFileSync(path.join(dir, e.name)).toString("base64");
  }
  out["../store.acknowledged"] = fs.readFileSync(ackOf(show)).toString("base64");
  return out;
}

function logOf(show: string): string {
  const name = fs.readdirSync(storeOf(show)).find((n) => n.endsWith(".log"));
  if (name === undefined) throw new Error("test setup: no LevelDB log");
  return path.join(storeOf(show), name);
}

function damageLog(show: string): string {
  const log = logOf(show);
  const fd = fs.openSync(log, "r+");
  fs.writeSync(fd, Buffer.alloc(64, 0x5a), 0, 64, Math.floor(fs.fstatSync(fd).size / 2));
  fs.closeSync(fd);
  return log;
}

/** `count` cues created through the daemon's socket, one bundle each. */
async function createCues(show: string, count: number): Promise<void> {
  const client = await connect(show, { name: "test" });
  try {
    for (let i = 1; i <= count; i++) await client.call("entity.create", { tables: ["lighting_cues"], fields: { number: i } });
  } finally {
    client.close();
  }
}

async function cueCount(show: string): Promise<number> {
  const client = await connect(show, { name: "test" });
  try {
    return ((await client.call("query", { expr: "table == 'lighting_cues'", idsOnly: true })) as { count: number }).count;
  } finally {
    client.close();
  }
}

async function waitFor(what: string, f: () => Promise<boolean>, ms = 30_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (await f().catch(() => false)) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`timed out waiting for ${what}`);
}

/**
 * A show whose store holds `count` cues, one bundle each, written by the real
 * store with the show's own schema and paths (as its daemon would, minus the
 * seconds a daemon takes to start), then closed.
 */
async function stoppedShow(count: number): Promise<string> {
  const show = await kit.newShow();
  const loaded = await loadShow(show);
  const store = await WorkspaceStore.open({
    persistence: levelPersistence({ dir: loaded.dir.storeDir, acknowledgedFile: loaded.dir.acknowledgedFile }),
    schema: loaded.schema,
    workspaceId: loaded.config.workspace.id,
    peerId: "seed",
  });
  for (let i = 1; i <= count; i++) await store.apply([{ op: "CreateEntity", tables: ["lighting_cues"], fields: { number: i } }], { actor: { kind: "user", name: "sm" } });
  await store.close();
  return show;
}

describe("offline read-only commands never change the store's files", () => {
  it("status, query, get, history, conflicts and store inspect leave every file byte-identical", async () => {
    const show = await stoppedShow(5);
    const before = storeBytes(show);
    const q = await kit.run(["query", "table == 'lighting_cues'", "--dir", show, "--json"]);
    expect(q.json<{ count: number }>().count).toBe(5);
    const id = q.json<{ ids: string[] }>().ids[0];
    for (const args of [["status"], ["get", id], ["get", id, "number"], ["history"], ["conflicts"], ["store", "inspect"]]) {
      const r = await kit.run([...args, "--dir", show, "--json"]);
      expect([args.join(" "), r.code]).toEqual([args.join(" "), 0]);
    }
    expect(storeBytes(show)).toEqual(before);
  });
});

describe("a damaged store is refused by every command, named, and left as it was", () => {
  it("daemon and query refuse with the log named and the missing count; inspect exits 1 naming the real file", async () => {
    const show = await stoppedShow(120);
    const log = damageLog(show);
    const before = storeBytes(show);

    const d = await kit.run(["daemon", "--dir", show, "--json", "--no-network"]);
    expect(d.code).not.toBe(0);
    const derr = d.json<{ error: { type: string; message: string } }>().error;
    expect(derr.type).toBe("StorageError");
    expect(derr.message).toContain(log);
    expect(derr.message).toMatch(/\d+ of the \d+ bundle\(s\) acknowledged .* are in the damaged part/);
    expect(derr.message).toContain("openprod store recover");

    const q = await kit.run(["query", "table == 'lighting_cues'", "--dir", show, "--json"]);
    expect(q.code).toBe(1);
    expect(q.json<{ error: { message: string } }>().error.message).toContain(log);

    const inspect = await kit.run(["store", "inspect", "--dir", show]);
    expect(inspect.code).toBe(1);
    expect(inspect.stdout).toContain(`damaged file ${log}: checksum mismatch`);
    expect(inspect.stdout).toMatch(/bundle\(s\) acknowledged .*; \d+ of them missing/);
    expect(inspect.stdout).not.toContain("openprod-store-copy-");
    expect(inspect.stdout).not.toContain("nothing damaged");
    const inspectJson = await kit.run(["store", "inspect", "--dir", show, "--json"]);
    expect(inspectJson.code).toBe(1);
    expect(inspectJson.json<{ ok: boolean; damagedFiles: { file: string }[] }>()).toMatchObject({ ok: false, damagedFiles: [{ file: log }] });

    expect(storeBytes(show)).toEqual(before);
  });

  it("a store whose files were all deleted: the daemon says it had one and how to start fresh or rejoin", async () => {
    const show = await stoppedShow(3);
    fs.rmSync(storeOf(show), { recursive: true });
    const d = await kit.run(["daemon", "--dir", show, "--json", "--no-network"]);
    expect(d.code).not.toBe(0);
    const message = d.json<{ error: { message: string } }>().error.message;
    expect(message).toContain(`the workspace store at ${storeOf(show)} is gone`);
    expect(message).toContain("openprod store recover");
    expect(message).toContain(`delete ${ackOf(show)}`);
    expect(fs.existsSync(storeOf(show))).toBe(false);
    const q = await kit.run(["status", "--dir", show, "--json"]);
    expect(q.code).toBe(1);
    expect(q.json<{ error: { message: string } }>().error.message).toContain("is gone");
  });
});

describe("a command reading the store while the daemon starts never makes the daemon fail", () => {
  it("offline queries run back to back while a daemon starts: the daemon starts every time, every query answers", async () => {
    const show = await stoppedShow(3);
    for (let round = 0; round < 2; round++) {
      const starting = kit.daemon(show, ["--no-network"]);
      let ready = false;
      void starting.then(
        () => (ready = true),
        () => (ready = true),
      );
      // A reader in a loop for as long as the daemon is starting: it opens the store offline until the socket answers.
      const reader = async (): Promise<number[]> => {
        const codes: number[] = [];
        while (!ready) {
          const r = await kit.run(["query", "table == 'lighting_cues'", "--dir", show, "--json"]);
          codes.push(r.code === 0 && r.json<{ count: number }>().count === 3 ? 0 : r.code || -1);
        }
        return codes;
      };
      const codes = await reader();
      const d = await starting;
      expect(codes.every((c) => c === 0)).toBe(true);
      expect(codes.length).toBeGreaterThan(0);
      await d.stop();
    }
  });

  it("a process holding the store: the daemon waits for it to let go, or names it", async () => {
    const show = await stoppedShow(2);
    const hold = (ms: number): Promise<{ pid: number; released: Promise<void>; kill: () => void }> =>
      new Promise((resolve, reject) => {
        const child = spawn(process.execPath, ["--import", "tsx", path.join(ROOT, "tests", "fixtures", "store-holder.ts"), storeOf(show), String(ms)], {
          cwd: ROOT,
          stdio: ["ignore", "pipe", "pipe"],
        });
        let out = "";
        const released = new Promise<void>((r) => child.on("exit", () => r()));
        child.stdout.on("data", (b: Buffer) => {
          out += b.toString();
          if (out.includes('"held"')) resolve({ pid: child.pid as number, released, kill: () => child.kill("SIGKILL") });
        });
        child.on("exit", (code) => reject(new Error(`holder exited (${code}) before holding the store`)));
      });

    // Lets go within the daemon's wait: the daemon starts.
    const brief = await hold(1000);
    const d = await kit.daemon(show, ["--no-network"]);
    await brief.released;
    await d.stop();

    // Does not let go: the daemon gives up naming the real holder, not "pid unknown".
    const stuck = await hold(60_000);
    try {
      const r = await kit.run(["daemon", "--dir", show, "--json", "--no-network"]);
      expect(r.code).not.toBe(0);
      const message = r.json<{ error: { message: string } }>().error.message;
      expect(message).toContain(`process ${stuck.pid} (`);
      expect(message).toContain("store-holder.ts");
      expect(message).not.toContain("pid unknown");
    } finally {
      stuck.kill();
      await stuck.released;
    }
  });
});

describe("store recover gets a damaged peer back in service from another peer on loopback", () => {
  it("keeps what verifies, moves the damaged files aside, and the restarted daemon syncs the rest", async () => {
    const a = await kit.newShow();
    const b = path.join(kit.tempDir("op-peer-b-"), "show");
    fs.cpSync(a, b, { recursive: true, filter: (src) => !src.includes(`${path.sep}.openprod${path.sep}`) || src.endsWith("workspace.key") });
    let da = await kit.daemon(a);
    const addrA = (await da.ready).addresses[0];
    const tomlB = path.join(b, "openprod.toml");
    fs.writeFileSync(tomlB, fs.readFileSync(tomlB, "utf8").replace("connect = []", `connect = ["${addrA}"]`));
    const db = await kit.daemon(b);
    const addrB = (await db.ready).addresses[0];
    try {
      await createCues(a, 120);
      await waitFor("peer b to have every cue", async () => (await cueCount(b)) === 120);
      await da.stop();

      const log = damageLog(a);
      const damaged = storeBytes(a);
      const refused = await kit.run(["daemon", "--dir", a, "--json"]);
      expect(refused.code).not.toBe(0);
      expect(refused.json<{ error: { message: string } }>().error.message).toContain(log);

      const r = await kit.run(["store", "recover", "--dir", a, "--json"]);
      expect(r.code).toBe(0);
      const report = r.json<{ movedTo: string; kept: number; acknowledged: number }>();
      expect(report.kept).toBeLessThan(report.acknowledged);
      // The damaged store is kept aside, exactly as it was.
      const aside: Record<string, string> = {};
      for (const e of fs.readdirSync(report.movedTo, { withFileTypes: true })) {
        if (e.isFile() && !["LOCK", "LOG", "LOG.old"].includes(e.name)) aside[e.name] = fs.readFileSync(path.join(report.movedTo, e.name)).toString("base64");
      }
      aside["../store.acknowledged"] = fs.readFileSync(`${report.movedTo}.acknowledged`).toString("base64");
      expect(aside).toEqual(damaged);
      expect((await kit.run(["store", "inspect", "--dir", a])).code).toBe(0);

      const tomlA = path.join(a, "openprod.toml");
      fs.writeFileSync(tomlA, fs.readFileSync(tomlA, "utf8").replace("connect = []", `connect = ["${addrB}"]`));
      da = await kit.daemon(a);
      // A loaded machine can take a redial with backoff before the peers meet again.
      await waitFor("peer a to get every cue back from b", async () => (await cueCount(a)) === 120, 60_000);
    } finally {
      await Promise.all([da.stop(), db.stop()]);
    }
  }, 120_000);
});

describe("the state directory and the store are the owner's alone, whatever the umask", () => {
  it(".openprod/ is made 0700 even when it was created open, and the store's files are 0600", async () => {
    const show = await kit.newShow();
    fs.chmodSync(path.join(show, ".openprod"), 0o777);
    const old = process.umask(0);
    let d;
    try {
      d = await kit.daemon(show, ["--no-network"]);
    } finally {
      process.umask(old);
    }
    await createCues(show, 2);
    await d.stop();
    expect(fs.statSync(path.join(show, ".openprod")).mode & 0o777).toBe(0o700);
    expect(fs.statSync(storeOf(show)).mode & 0o777).toBe(0o700);
    for (const name of fs.readdirSync(storeOf(show))) expect([name, fs.statSync(path.join(storeOf(show), name)).mode & 0o777]).toEqual([name, 0o600]);
    expect(fs.statSync(ackOf(show)).mode & 0o777).toBe(0o600);
  });
});
