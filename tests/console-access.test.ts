import fs from "node:fs";
import http from "node:http";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { connectWebSocket } from "../protocol/index.ts";
import type { Client, DaemonEvent, WebSocketConstructor } from "../protocol/index.ts";
import { CliKit } from "./fixtures/daemon-cli.ts";
import type { DaemonProcess } from "./fixtures/daemon-cli.ts";

const kit = new CliKit();
let show = "";
let daemon: DaemonProcess;
let base = "";
let token = "";

interface Reply {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

function get(url: string, headers: Record<string, string> = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    http
      .get(url, { headers }, (res) => {
        let body = "";
        res.on("data", (d: Buffer) => (body += d.toString()));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      })
      .on("error", reject);
  });
}

/** Opens a WebSocket with these handshake headers; resolves with the status it was refused with, or "open". */
function handshake(headers: Record<string, string>): Promise<number | "open"> {
  return new Promise((resolve) => {
    const ws = new WebSocket(base.replace("http:", "ws:") + "rpc", { headers });
    ws.on("open", () => {
      ws.close();
      resolve("open");
    });
    ws.on("unexpected-response", (_req, res) => resolve(res.statusCode ?? 0));
    ws.on("error", () => undefined);
  });
}

async function cookie(): Promise<string> {
  const r = await get(`${base}?token=${token}`);
  const set = r.headers["set-cookie"]?.[0] ?? "";
  return set.split(";")[0];
}

beforeAll(async () => {
  await kit.build();
  show = await kit.newShow();
  daemon = await kit.daemon(show, ["--no-network"]);
  const ready = (await daemon.ready) as unknown as { console: string };
  const u = new URL(ready.console);
  token = u.searchParams.get("token") ?? "";
  base = `${u.origin}/`;
}, 60_000);

afterAll(async () => {
  await daemon?.stop();
  await kit.cleanup();
});

describe("the console is reachable only with the show's token", () => {
  it("keeps the token owner-only in .openprod/ and prints it through `openprod console`", async () => {
    const file = path.join(show, ".openprod", "console.token");
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
    expect(fs.readFileSync(file, "utf8").trim()).toBe(token);
    const r = await kit.run(["console", "--dir", show, "--json"]);
    expect(r.code).toBe(0);
    expect(r.json<{ urlWithToken: string }>().urlWithToken).toBe(`${base}?token=${token}`);
  });

  it("refuses a request without the token, and a wrong token", async () => {
    const none = await get(base);
    expect(none.status).toBe(401);
    expect(none.body).toContain("openprod console");
    expect((await get(`${base}?token=${"0".repeat(64)}`)).status).toBe(403);
    expect((await get(`${base}app.js`)).status).toBe(401);
  });

  it("trades the token in the URL for an HttpOnly SameSite=Strict cookie and drops it from the address", async () => {
    const r = await get(`${base}?token=${token}`);
    expect(r.status).toBe(303);
    expect(r.headers.location).toBe("/");
    const set = r.headers["set-cookie"]?.[0] ?? "";
    expect(set).toMatch(/HttpOnly/);
    expect(set).toMatch(/SameSite=Strict/);
    const page = await get(base, { Cookie: await cookie() });
    expect(page.status).toBe(200);
    expect(page.headers["content-security-policy"]).toContain("default-src 'self'");
  });

  it("refuses a host name that is not the console's (DNS rebinding)", async () => {
    const port = new URL(base).port;
    expect((await get(base, { Cookie: await cookie(), Host: `attacker.example:${port}` })).status).toBe(421);
  });

  it("refuses a WebSocket without the cookie, from another origin or another host name", async () => {
    const host = new URL(base).host;
    const c = await cookie();
    expect(await handshake({ Origin: `http://${host}` })).toBe(401);
    expect(await handshake({ Origin: "http://evil.example", Cookie: c })).toBe(403);
    expect(await handshake({ Cookie: c })).toBe(403);
    expect(await handshake({ Origin: `http://rebound.example:${new URL(base).port}`, Cookie: c, Host: `rebound.example:${new URL(base).port}` })).toBe(421);
    expect(await handshake({ Origin: `http://${host}`, Cookie: c })).toBe("open");
  });
});

describe("the console's WebSocket speaks the socket's JSON-RPC methods and events", () => {
  let ws: Client;
  beforeAll(async () => {
    ws = await connectWebSocket(base.replace("http:", "ws:") + "rpc", {
      name: "Ada",
      WebSocket: WebSocket as unknown as WebSocketConstructor,
      headers: { Cookie: await cookie(), Origin: new URL(base).origin },
    });
  });
  afterAll(() => ws?.close());

  it("edits made through it carry the actor console:<name>, and its subscription sees the bundle", async () => {
    const seen: DaemonEvent[] = [];
    await ws.subscribe((e) => void seen.push(e), ["bundle"]);
    const { id } = await ws.request("entity.create", { tables: ["lighting_cues"], fields: { number: 1, label: "House to half" } });
    const { bundles } = await ws.request("history", { entity: id, limit: 1 });
    expect(bundles[0].meta.actor).toEqual({ kind: "user", name: "console:Ada" });
    await expect.poll(() => seen.some((e) => e.type === "bundle" && e.origin === "local")).toBe(true);
  });

  it("does not hand out invites: invite.create (the workspace key) is on the owner-only socket only", async () => {
    await expect(ws.request("invite.create", {})).rejects.toThrow(/unknown method "invite.create"/);
  });

  it("a bad request gets the socket's typed error", async () => {
    await expect(ws.request("get", { id: "nope" })).rejects.toMatchObject({ data: { type: "EntityNotFound" } });
    await expect(ws.call("no.such.method")).rejects.toThrow(/unknown method "no.such.method"/);
  });
});

describe("a show can turn the console off", () => {
  it("`[console] enabled = false`: no console, and `openprod console` says so", async () => {
    const off = await kit.newShow();
    fs.appendFileSync(path.join(off, "openprod.toml"), `\n[console]\nenabled = false\n`);
    const d = await kit.daemon(off, ["--no-network"]);
    try {
      expect(((await d.ready) as unknown as { console: string | null }).console).toBeNull();
      const r = await kit.run(["console", "--dir", off]);
      expect(r.code).not.toBe(0);
      expect(r.stderr).toMatch(/InvalidOperation: the web console is off for this show \(\[console\] enabled = false in .*openprod\.toml\)/);
      expect(fs.existsSync(path.join(off, ".openprod", "console.token"))).toBe(false);
    } finally {
      await d.stop();
    }
  });
});
