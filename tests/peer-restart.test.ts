import { spawn } from "node:child_process";
import type { ChildProcessWithoutNullStreams } from "node:child_process";
import path from "node:path";
import readline from "node:readline";
import { afterEach, describe, expect, it } from "vitest";
import type { Operation } from "../daemon/crdt/operations.ts";
import { generateWorkspaceKey, writeWorkspaceKey } from "../daemon/peer/index.ts";
import { eventually, makeTempDir, openShowStore, sortedHeads, startShowPeer, stateOf } from "./fixtures/peer-show.ts";
import { USER } from "./helpers/store-fixture.ts";

const ROOT = path.resolve(import.meta.dirname, "..");
const DAEMON = path.join(ROOT, "tests/fixtures/peer-daemon.ts");
const cleanups: Array<() => unknown> = [];

afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()?.();
});

interface DaemonEvent {
  event: "ready" | "merged" | "stopped";
  heads?: string[];
  hashes?: string[];
  peerId?: string;
}

interface Daemon {
  proc: ChildProcessWithoutNullStreams;
  events: DaemonEvent[];
  /** The child's heads as last reported (ready or merged). */
  heads(): string;
  exited: Promise<number | null>;
  stderr: () => string;
}

function startDaemon(showDir: string, keyFile: string, dial: string): Daemon {
  const proc = spawn(process.execPath, ["--import", "tsx", DAEMON, showDir, keyFile, dial], { cwd: ROOT });
  const events: DaemonEvent[] = [];
  let err = "";
  proc.stderr.on("data", (d: Buffer) => (err += d.toString()));
  readline.createInterface({ input: proc.stdout }).on("line", (line) => events.push(JSON.parse(line) as DaemonEvent));
  const exited = new Promise<number | null>((resolve) => proc.on("exit", (code) => resolve(code)));
  cleanups.push(() => {
    if (proc.exitCode === null && proc.signalCode === null) proc.kill("SIGKILL");
    return exited;
  });
  const heads = (): string => {
    const last = [...events].reverse().find((e) => e.heads !== undefined);
    return last?.heads ? [...last.heads].sort().join(",") : "";
  };
  return { proc, events, heads, exited, stderr: () => err };
}

describe("a peer killed mid-sync restarts with everything it acknowledged and catches up", () => {
  it("SIGKILL while receiving a large batch, restart on the same directories, converge", async () => {
    const key = generateWorkspaceKey();
    const keyDir = makeTempDir("openprod-peer-key-", cleanups);
    const keyFile = path.join(keyDir, "workspace.key");
    writeWorkspaceKey(keyFile, key);
    const a = await startShowPeer(makeTempDir("openprod-peer-a-", cleanups), key);
    cleanups.push(() => a.close());
    const childDir = makeTempDir("openprod-peer-child-", cleanups);

    const base: Operation[] = [];
    for (let i = 0; i < 20; i++) base.push({ op: "CreateEntity", tables: ["lighting_fixtures"], fields: { unit_number: `B${i}`, channel: i } });
    await a.store.apply(base, USER);

    let child = startDaemon(childDir, keyFile, a.node.addresses()[0]);
    await eventually("child synced the base", () => child.heads() === sortedHeads(a.store), 30_000).catch((e: Error) => {
      throw new Error(`${e.message}\nchild stderr: ${child.stderr()}`);
    });

    // A large batch: 200 bundles streamed to the connected child.
    const total = 200;
    const streamed: string[] = [];
    const writing = (async () => {
      for (let i = 0; i < total; i++) {
        const ops: Operation[] = [];
        for (let j = 0; j < 20; j++) ops.push({ op: "CreateEntity", tables: ["lighting_cues"], fields: { number: i * 20 + j, label: `cue ${i}.${j}` } });
        streamed.push((await a.store.apply(ops, USER)).hash as string);
      }
    })();
    const acknowledged = (): Set<string> => new Set(child.events.flatMap((e) => (e.event === "merged" ? (e.hashes ?? []) : [])));
    await eventually("child acknowledged part of the batch", () => acknowledged().size >= 30, 30_000);
    child.proc.kill("SIGKILL");
    await child.exited;
    const acked = acknowledged();
    await writing;

    // Every bundle the child reported merged is on its disk; the store opens clean (no partial bundle).
    const onDisk = await openShowStore(childDir);
    const missing = [...acked].filter((h) => !onDisk.hasHeads([h]));
    const resumedFrom = sortedHeads(onDisk);
    await onDisk.close();
    expect(missing).toEqual([]);
    expect(resumedFrom).not.toBe(sortedHeads(a.store)); // the kill really landed mid-sync

    child = startDaemon(childDir, keyFile, a.node.addresses()[0]);
    await eventually("restarted child caught up", () => child.heads() === sortedHeads(a.store), 30_000);
    const ready = child.events.find((e) => e.event === "ready");
    expect([...(ready?.heads ?? [])].sort().join(",")).toBe(resumedFrom);
    child.proc.kill("SIGTERM");
    await eventually("child stopped cleanly", () => child.events.some((e) => e.event === "stopped"), 10_000);
    await child.exited;

    const final = await openShowStore(childDir);
    try {
      expect(sortedHeads(final)).toBe(sortedHeads(a.store));
      expect(streamed.every((h) => final.hasHeads([h]))).toBe(true);
      expect(final.queryIds("table == 'lighting_cues'")).toHaveLength(total * 20);
      expect(stateOf(final)).toBe(stateOf(a.store));
    } finally {
      await final.close();
    }
  });
});
