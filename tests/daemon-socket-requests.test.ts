/**
 * Hostile or unusual requests get typed answers: a query nested 100,000 levels
 * deep, params keys that name Object.prototype's machinery, and a last request
 * sent without its newline before the client half-closes.
 */
import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startDaemon } from "../daemon/main.ts";
import type { RunningDaemon } from "../daemon/main.ts";
import { parseQueryUncached, parseCondition } from "../daemon/crdt/query/index.ts";
import { InvalidOperation } from "../daemon/crdt/errors.ts";

let tmp = "";
let daemon: RunningDaemon;

beforeAll(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), "op-req-"));
  fs.cpSync(path.join(import.meta.dirname, "..", "examples", "show"), tmp, { recursive: true });
  daemon = await startDaemon({ showDir: tmp, network: false, scripts: false, console: null, banner: null });
}, 60_000);

afterAll(async () => {
  await daemon?.stop();
  fs.rmSync(tmp, { recursive: true, force: true });
});

interface Reply {
  id: unknown;
  result?: unknown;
  error?: { code: number; message: string; data: { type: string; message: string; details?: Record<string, unknown> } };
}

/** Sends `text` as is, half-closes, and collects every reply line until the daemon closes its side. */
function exchange(text: string): Promise<Reply[]> {
  return new Promise((resolve, reject) => {
    const sock = net.createConnection({ path: daemon.socket, allowHalfOpen: true });
    let buf = "";
    const timer = setTimeout(() => {
      sock.destroy();
      reject(new Error(`the daemon did not answer and close within 10 s (got ${JSON.stringify(buf)})`));
    }, 10_000);
    sock.on("data", (d: Buffer) => (buf += d.toString()));
    sock.on("error", reject);
    sock.on("end", () => {
      clearTimeout(timer);
      sock.end();
      resolve(
        buf
          .split("\n")
          .filter((l) => l !== "")
          .map((l) => JSON.parse(l) as Reply),
      );
    });
    sock.once("connect", () => sock.end(text));
  });
}

const request = (id: number, method: string, params: unknown): string => JSON.stringify({ jsonrpc: "2.0", id, method, params });

describe("a query nested too deep is refused as InvalidOperation", () => {
  const depth = 100_000;

  it("100,000 parentheses through the socket", async () => {
    const expr = "(".repeat(depth) + "table == 'cues'" + ")".repeat(depth);
    const [r] = await exchange(request(1, "query", { expr }) + "\n");
    expect(r.error?.data.type).toBe("InvalidOperation");
    expect(r.error?.data.message).toContain("nested more than 100 levels deep");
    expect(r.error?.data.message).not.toContain("call stack");
  });

  it("100,000 NOTs, in a query and in a trigger condition, with the column of the first level too many", () => {
    const expr = "NOT ".repeat(depth) + "table == 'cues'";
    expect(() => parseQueryUncached(expr)).toThrow(InvalidOperation);
    expect(() => parseQueryUncached(expr)).toThrow(/column 401: nested more than 100 levels deep/);
    expect(() => parseCondition("(".repeat(depth) + "new_value == 1" + ")".repeat(depth))).toThrow(/nested more than 100 levels deep/);
  });

  it("100 levels still parse", () => {
    const expr = "(".repeat(100) + "table == 'cues'" + ")".repeat(100);
    expect(parseQueryUncached(expr).where).toMatchObject({ kind: "compare" });
  });
});

describe("a request nested too deep is refused, and the daemon keeps serving", () => {
  it("a value 100,000 lists deep in params gets InvalidRequest (it used to crash the daemon); the next request is answered", async () => {
    const deep = "[".repeat(100_000) + "]".repeat(100_000);
    const [r] = await exchange(`{"jsonrpc":"2.0","id":9,"method":"query","params":{"expr":"table == ?","params":[${deep}]}}\n`);
    expect(r).toMatchObject({ id: 9, error: { code: -32600 } });
    expect(r.error?.data.message).toContain("nested more than 64 levels deep");
    const [ok] = await exchange(request(10, "status", {}) + "\n");
    expect(ok).toMatchObject({ id: 10, result: { showDir: daemon.showDir } });
  });

  it("60 levels are still a value", async () => {
    const value = JSON.parse("[".repeat(60) + "1" + "]".repeat(60)) as unknown;
    const [r] = await exchange(request(11, "query", { expr: "table == ?", params: [value] }) + "\n");
    expect(r.error?.data.message ?? "").not.toContain("nested more than");
  });
});

describe("params keys such as __proto__ and constructor are refused like any unknown key", () => {
  for (const key of ["__proto__", "constructor", "toString", "hasOwnProperty"]) {
    it(`"${key}" in a method's params`, async () => {
      // JSON.parse makes "__proto__" an own key, as a client's JSON would.
      const [r] = await exchange(`{"jsonrpc":"2.0","id":1,"method":"status","params":{"${key}":{"x":1}}}\n`);
      expect(r.error?.data.type).toBe("InvalidOperation");
      expect(r.error?.data.message).toContain(`params.${key}: unknown key`);
    });
  }

  it(`"__proto__" as a field name is refused, not turned into the object's prototype`, async () => {
    const [r] = await exchange(`{"jsonrpc":"2.0","id":1,"method":"entity.create","params":{"tables":["lighting_cues"],"fields":{"__proto__":{"number":"1"}}}}\n`);
    expect(r.error?.data.type).toBe("InvalidOperation");
    expect(r.error?.data.message).toContain("params.fields.__proto__: reserved key");
  });
});

describe("a request followed by a half-close is still answered", () => {
  it("without its newline", async () => {
    const replies = await exchange(request(7, "status", {}));
    expect(replies).toHaveLength(1);
    expect(replies[0]).toMatchObject({ id: 7, result: { showDir: daemon.showDir } });
  });

  it("several requests, the last without a newline, each answered before the daemon closes", async () => {
    const replies = await exchange(request(1, "status", {}) + "\n" + request(2, "query", { expr: "table == 'lighting_cues'" }) + "\n" + request(3, "status", {}));
    expect(replies.map((r) => r.id).sort()).toEqual([1, 2, 3]);
    expect(replies.every((r) => r.error === undefined)).toBe(true);
  });
});
