import { afterAll, describe, expect, it } from "vitest";
import fs from "node:fs";
import http from "node:http";
import { ioKit } from "./fixtures/io-kit/io-run.ts";
import { freeTcpPort, until } from "./fixtures/io-kit/ports.ts";

const kit = ioKit();
afterAll(() => kit.close());

const doc = fs.readFileSync(new URL("../docs/show-io.md", import.meta.url), "utf8");
const luaBlocks = [...doc.matchAll(/```lua\n([\s\S]*?)```/g)].map((m) => m[1]);

const get = (port: number, path: string): Promise<{ status: number; body: string }> =>
  new Promise((resolve, reject) => {
    http.get({ host: "127.0.0.1", port, path, agent: false }, (res) => {
      let body = "";
      res.on("data", (c) => (body += c));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
    }).on("error", reject);
  });

describe("the show I/O guide's examples work as written", () => {
  it("the HTTP server example answers /trigger and 404s the rest until cancelled", async () => {
    const block = luaBlocks.find((b) => b.includes("http.serve(3000)"));
    expect(block).toBeDefined();
    const port = await freeTcpPort();
    let cancelled = false;
    const run = kit.start((block as string).replace("http.serve(3000)", `http.serve(${port})`), {
      capabilities: [`net.http.server:${port}`],
      bindings: { "context.cancelled": { kind: "sync", fn: () => cancelled } },
    });
    await until(() => run.ioLogs.some((l) => l.msg.startsWith("HTTP serving on")), 5000, "server");
    expect(await get(port, "/trigger")).toEqual({ status: 200, body: "OK" });
    expect(await get(port, "/nothing")).toEqual({ status: 404, body: "Not Found" });
    cancelled = true;
    run.handle.cancel("done");
    run.controller.abort();
    expect((await run.done).status).toBe("cancelled");
  });
});
