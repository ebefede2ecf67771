import { afterAll, beforeAll, describe, expect, it } from "vitest";
import http from "node:http";
import net from "node:net";
import type { AddressInfo } from "node:net";
import { ioKit } from "./fixtures/io-kit/io-run.ts";
import { freeTcpPort, until } from "./fixtures/io-kit/ports.ts";

const kit = ioKit();
let base = "";
const upstream = http.createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on("data", (c: Buffer) => chunks.push(c));
  req.on("end", () => {
    if (req.url === "/slow") return void setTimeout(() => res.end("late"), 2000);
    res.writeHead(req.url === "/missing" ? 404 : 201, { "x-echo-method": req.method ?? "", "content-type": "application/json" });
    res.end(JSON.stringify({ url: req.url, auth: req.headers.authorization ?? null, body: Buffer.concat(chunks).toString() }));
  });
});
beforeAll(async () => {
  await new Promise<void>((r) => upstream.listen(0, "127.0.0.1", () => r()));
  base = `http://127.0.0.1:${(upstream.address() as AddressInfo).port}`;
});
afterAll(async () => {
  upstream.closeAllConnections();
  await new Promise((r) => upstream.close(r));
  await kit.close();
});

const CLIENT = ["net.http.client"];

describe("a script calls a web service", () => {
  it("gets status, headers and body, for every method", async () => {
    const run = kit.start(`
      local r = core.await(http.get("${base}/cues?x=1"))
      log.info(r.status, r.headers["x-echo-method"], r.body)
      local p = core.await(http.post("${base}/update", { headers = { Authorization = "Bearer t" }, body = "status=done" }))
      log.info(p.status, p.headers["x-echo-method"], p.body)
      local d = core.await(http.delete("${base}/x"))
      local u = core.await(http.put("${base}/y", { body = "v" }))
      local q = core.await(http.request("${base}/missing", { method = "PATCH" }))
      log.info(d.headers["x-echo-method"], u.headers["x-echo-method"], q.status, q.headers["x-echo-method"])`, { capabilities: CLIENT });
    const o = await run.done;
    expect(o.error).toBeUndefined();
    expect(run.logs[0]).toEqual([201, "GET", JSON.stringify({ url: "/cues?x=1", auth: null, body: "" })]);
    expect(run.logs[1]).toEqual([201, "POST", JSON.stringify({ url: "/update", auth: "Bearer t", body: "status=done" })]);
    expect(run.logs[2]).toEqual(["DELETE", "PUT", 404, "PATCH"]);
    expect(run.records.map((r) => r.kind)).toEqual(Array(5).fill("http.response"));
    expect(run.records[0].data).toMatchObject({ method: "GET", url: `${base}/cues?x=1`, status: 201 });
  });

  it("reports a refused connection as NetworkError and a slow server as Timeout", async () => {
    const closed = await freeTcpPort();
    const run = kit.start(`
      local ok, e = pcall(function() return core.await(http.get("http://127.0.0.1:${closed}/")) end)
      log.info(ok, e.type, e.message)
      local ok2, e2 = pcall(function() return core.await(http.get("${base}/slow", { timeout = 200 })) end)
      log.info(ok2, e2.type, e2.message)`, { capabilities: CLIENT });
    const o = await run.done;
    expect(o.error).toBeUndefined();
    expect(run.logs[0]).toEqual([false, "NetworkError", `HTTP GET http://127.0.0.1:${closed}/ failed: connection refused (nothing listens there) (ECONNREFUSED)`]);
    expect(run.logs[1]).toEqual([false, "Timeout", `HTTP GET ${base}/slow: no complete response within 200 ms`]);
  });

  it("needs net.http.client", async () => {
    const run = kit.start(`local ok, e = pcall(function() return core.await(http.get("${base}/")) end) log.info(e.type, e.message)`, { capabilities: [] });
    expect((await run.done).error).toBeUndefined();
    expect(run.logs[0]).toEqual(["PermissionDenied", 'making HTTP requests needs capability "net.http.client"']);
  });
});

async function listenable(port: number): Promise<void> {
  const s = net.createServer();
  await new Promise<void>((resolve, reject) => {
    s.once("error", reject);
    s.listen(port, "127.0.0.1", () => resolve());
  });
  await new Promise((r) => s.close(r));
}

/** A request by hand, so the test controls exactly what the client sends. */
function ask(port: number, path: string, init: { method?: string; body?: string; headers?: Record<string, string> } = {}): Promise<{ status: number; body: string; headers: http.IncomingHttpHeaders }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: "127.0.0.1", port, path, method: init.method ?? "GET", headers: init.headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString(), headers: res.headers }));
    });
    req.on("error", reject);
    req.end(init.body);
  });
}

describe("a script serves HTTP for a control surface", () => {
  it("accepts requests with method, path, params, headers and body, and answers them", async () => {
    const port = await freeTcpPort();
    const run = kit.start(`
      local server = core.await(http.serve(${port}))
      log.info("ready", server.host)
      for i = 1, 2 do
        local req = core.await(server:accept())
        log.info(req.method, req.path, req.params.id, req.params.mode, req.headers["x-panel"], req.body)
        if req.path == "/trigger" then req:respond(200, "OK " .. req.params.id, { ["X-Served-By"] = "openprod" })
        else req:respond(404, "Not Found") end
      end`, { capabilities: [`net.http.server:${port}`] });
    await until(() => run.logs.some((l) => l[0] === "ready"), 5000, "server");
    expect(run.logs[0]).toEqual(["ready", "127.0.0.1"]);
    const a = await ask(port, "/trigger?id=42&mode=go", { method: "POST", body: "hello", headers: { "x-panel": "left" } });
    const b = await ask(port, "/other");
    const o = await run.done;
    expect(o.error).toBeUndefined();
    expect(a).toMatchObject({ status: 200, body: "OK 42", headers: { "x-served-by": "openprod" } });
    expect(b).toMatchObject({ status: 404, body: "Not Found" });
    expect(run.logs.slice(1)).toEqual([["POST", "/trigger", "42", "go", "left", "hello"], ["GET", "/other", null, null, null, ""]]);
    expect(run.records[0]).toMatchObject({ kind: "http.request", data: { method: "POST", path: "/trigger", params: { id: "42", mode: "go" }, body: "hello" } });
  });

  it("refuses oversized bodies with 413 before the script sees them", async () => {
    const port = await freeTcpPort();
    const run = kit.start(`
      local server = core.await(http.serve(${port}, { max_body = 1024 }))
      log.info("ready")
      local req = core.await(server:accept())
      log.info(req.path, #req.body)
      req:respond(200, "fine")`, { capabilities: [`net.http.server:${port}`] });
    await until(() => run.logs.some((l) => l[0] === "ready"), 5000, "server");
    const big = await ask(port, "/upload", { method: "POST", body: "x".repeat(4096) });
    const ok = await ask(port, "/small", { method: "POST", body: "y".repeat(1000) });
    expect((await run.done).error).toBeUndefined();
    expect(big.status).toBe(413);
    expect(big.body).toMatch(/exceeds the limit of 1024 bytes/);
    expect(ok.status).toBe(200);
    expect(run.logs[1]).toEqual(["/small", 1000]);
  });

  it("cuts off a client that sends its request too slowly", async () => {
    const port = await freeTcpPort();
    const run = kit.start(`
      local server = core.await(http.serve(${port}, { request_timeout = 300, headers_timeout = 300 }))
      log.info("ready")
      local req = core.await(server:accept())
      log.info(req.path)
      req:respond(200, "fine")`, { capabilities: [`net.http.server:${port}`] });
    await until(() => run.logs.some((l) => l[0] === "ready"), 5000, "server");
    const slow = net.connect(port, "127.0.0.1");
    const reply: Promise<string> = new Promise((resolve) => {
      let text = "";
      slow.on("data", (d) => (text += d.toString()));
      slow.on("close", () => resolve(text));
    });
    slow.write("POST /slow HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nabc"); // and then nothing more
    const started = Date.now();
    const text = await reply;
    expect(Date.now() - started).toBeLessThan(3000);
    expect(text).toMatch(/^HTTP\/1.1 408/);
    const after = await ask(port, "/after");
    expect(after.status).toBe(200);
    expect((await run.done).error).toBeUndefined();
    expect(run.logs[1]).toEqual(["/after"]);
  });

  it("serves only granted ports, says which port is taken, and frees the port when the run ends", async () => {
    const port = await freeTcpPort();
    const blocker = net.createServer();
    await new Promise<void>((r) => blocker.listen(0, "127.0.0.1", () => r()));
    const taken = (blocker.address() as AddressInfo).port;
    const run = kit.start(`
      local ok, e = pcall(http.serve, ${port + 1 === taken ? port + 2 : port + 1})
      log.info(e.type)
      local ok2, e2 = pcall(http.serve, ${taken})
      log.info(e2.type, e2.message)
      local s = http.serve(${port})
      log.info("ready")
      local req = s:accept(5000)
      log.info(req == nil)`, { capabilities: [`net.http.server:${port}`, `net.http.server:${taken}`] });
    await until(() => run.logs.some((l) => l[0] === "ready"), 5000, "server");
    run.handle.cancel("operator stop");
    run.controller.abort();
    const o = await run.done;
    blocker.close();
    expect(o.status).toBe("cancelled");
    expect(run.logs[0]).toEqual(["PermissionDenied"]);
    expect(run.logs[1]).toEqual(["NetworkError", `http.serve: TCP port ${taken} on 127.0.0.1 is already in use (another program or server has it)`]);
    // the port is free again: something else can listen on it
    await listenable(port);
  });
});
