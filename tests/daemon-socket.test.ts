import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startDaemon } from "../daemon/main.ts";
import type { RunningDaemon } from "../daemon/main.ts";
import { connect, MAX_MESSAGE_BYTES, RpcError } from "../protocol/index.ts";
import type { Client, DaemonEvent } from "../protocol/index.ts";

let tmp = "";
let daemon: RunningDaemon;

beforeAll(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), "op-sock-"));
  fs.cpSync(path.join(import.meta.dirname, "..", "examples", "show"), tmp, { recursive: true });
  daemon = await startDaemon({ showDir: tmp, network: false, console: null, banner: null });
}, 60_000);

afterAll(async () => {
  await daemon?.stop();
  fs.rmSync(tmp, { recursive: true, force: true });
});

/** A raw line-oriented connection, to send what the typed client never would. */
async function raw(): Promise<{ send(text: string | Buffer): void; next(): Promise<Record<string, unknown>>; close(): void }> {
  const sock = net.createConnection(daemon.socket);
  await new Promise((r) => sock.once("connect", r));
  const lines: string[] = [];
  const waiters: ((l: string) => void)[] = [];
  let buf = "";
  sock.on("data", (d: Buffer) => {
    buf += d.toString();
    let nl: number;
    while ((nl = buf.indexOf("\n")) !== -1) {
      const line = buf.slice(0, nl);
      buf = buf.slice(nl + 1);
      const w = waiters.shift();
      if (w) w(line);
      else lines.push(line);
    }
  });
  return {
    send: (t) => sock.write(t),
    next: () =>
      new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error("no reply within 10 s")), 10_000);
        const take = (l: string): void => {
          clearTimeout(timer);
          resolve(JSON.parse(l) as Record<string, unknown>);
        };
        const l = lines.shift();
        if (l !== undefined) take(l);
        else waiters.push(take);
      }),
    close: () => sock.destroy(),
  };
}

describe("the socket is private to the show's owner", () => {
  it("is created with mode 0600", () => {
    expect(fs.statSync(daemon.socket).mode & 0o777).toBe(0o600);
  });
});

describe("bad messages get JSON-RPC errors and the connection stays usable", () => {
  it("malformed JSON, unknown method, wrong params, oversized message, then a good request", async () => {
    const c = await raw();
    c.send("{not json\n");
    const parse = (await c.next()) as { id: unknown; error: { code: number; data: { type: string; message: string } } };
    expect(parse.id).toBeNull();
    expect(parse.error.code).toBe(-32700);
    expect(parse.error.data.type).toBe("InvalidOperation");

    c.send(JSON.stringify({ jsonrpc: "2.0", id: 1, method: "frobnicate" }) + "\n");
    const unknown = (await c.next()) as { id: number; error: { code: number; data: { message: string } } };
    expect(unknown).toMatchObject({ id: 1, error: { code: -32601 } });
    expect(unknown.error.data.message).toContain('unknown method "frobnicate"');

    c.send(JSON.stringify({ jsonrpc: "2.0", id: 2, method: "get", params: { id: 42 } }) + "\n");
    const wrong = (await c.next()) as { error: { code: number; data: { type: string; message: string; details: { path: string } } } };
    expect(wrong.error.code).toBe(-32602);
    expect(wrong.error.data).toMatchObject({ type: "InvalidOperation", details: { path: "params.id" } });
    expect(wrong.error.data.message).toContain("params.id: expected a string, got number 42");

    c.send(JSON.stringify({ jsonrpc: "2.0", id: 3, method: "apply", params: { ops: [{ op: "SetField", id: "x", feild: "a" }] } }) + "\n");
    const badOp = (await c.next()) as { error: { data: { message: string } } };
    expect(badOp.error.data.message).toContain("params.ops[0].feild: unknown key");

    c.send(Buffer.alloc(MAX_MESSAGE_BYTES + 1024, 0x61));
    c.send("\n");
    const big = (await c.next()) as { error: { code: number; data: { message: string } } };
    expect(big.error.code).toBe(-32600);
    expect(big.error.data.message).toContain("message too large");

    c.send(JSON.stringify({ jsonrpc: "2.0", id: 4, method: "status" }) + "\n");
    const ok = (await c.next()) as { id: number; result: { workspace: { id: string } } };
    expect(ok.id).toBe(4);
    expect(ok.result.workspace.id).toBe("ws-01JEXAMPLESH0W00000000000");
    c.close();
  });

  it("store errors arrive with their spec type and details", async () => {
    const client = await connect(tmp, { name: "error-test" });
    try {
      const err = await client.request("get", { id: "01NOSUCH" }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(RpcError);
      expect((err as RpcError).type).toBe("EntityNotFound");
      expect((err as RpcError).message).toContain("01NOSUCH");
    } finally {
      client.close();
    }
  });
});

describe("a subscriber sees every bundle with its metadata and field changes", () => {
  it("streams bundle events for writes made by another client, named as that client", async () => {
    const watcher = await connect(tmp, { name: "watcher" });
    const writer = await connect(tmp, { name: "lighting-console" });
    const events: DaemonEvent[] = [];
    const sub = await watcher.subscribe((e) => events.push(e), ["bundle"]);
    const made = await writer.request("entity.create", { tables: ["lighting_cues"], fields: { number: 1 } });
    await writer.request("entity.set", { id: made.id, field: "label", value: "Go" });
    await writer.request("apply", { ops: [{ op: "SetField", id: made.id, field: "number", value: 2 }] });
    await until(() => events.length >= 3);
    const bundles = events.filter((e) => e.type === "bundle");
    expect(bundles.map((b) => b.bundles[0].meta.actor)).toEqual(Array(3).fill({ kind: "app", name: "lighting-console" }));
    expect(bundles[1].changes).toContainEqual(expect.objectContaining({ kind: "field", entity: made.id, field: "lighting.cue.label", newValue: "Go" }));
    await sub.unsubscribe();
    watcher.close();
    writer.close();
  });

  it("a client that disconnects mid-stream harms nothing", async () => {
    const gone: Client = await connect(tmp);
    await gone.subscribe(() => undefined);
    const writer = await connect(tmp);
    const writes = Array.from({ length: 20 }, (_, i) => writer.request("entity.create", { tables: ["lighting_cues"], fields: { number: 100 + i } }));
    gone.close();
    await Promise.all(writes);
    const status = await writer.request("status");
    expect(status.entities).toBeGreaterThanOrEqual(21);
    writer.close();
  });
});

async function until(cond: () => boolean, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error("condition not met in time");
    await new Promise((r) => setTimeout(r, 20));
  }
}
