import fs from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connect } from "../protocol/index.ts";
import { CliKit } from "./fixtures/daemon-cli.ts";

const kit = new CliKit();

beforeAll(() => kit.build(), 60_000);
afterAll(() => kit.cleanup());

describe("SIGTERM shuts the daemon down cleanly", () => {
  it("exits 0, removes its socket and pid file, and logs the stop", async () => {
    const show = await kit.newShow();
    const d = await kit.daemon(show, ["--log-format", "json"]);
    const exit = await d.stop("SIGTERM");
    expect(exit.code).toBe(0);
    expect(fs.existsSync(path.join(show, ".openprod", "daemon.sock"))).toBe(false);
    expect(fs.existsSync(path.join(show, ".openprod", "daemon.pid"))).toBe(false);
    const lines = fs.readFileSync(path.join(show, ".openprod", "logs", "daemon.log"), "utf8").trim().split("\n");
    const records = lines.map((l) => JSON.parse(l) as { level: string; msg: string });
    expect(records.at(-1)).toMatchObject({ level: "info", msg: "daemon stopped" });
    // stderr carries the same JSON lines.
    expect(d.stderr.trim().split("\n").every((l) => l.startsWith("{"))).toBe(true);
  });
});

describe("a daemon killed during a stream of writes loses nothing it acknowledged", () => {
  it("every acknowledged entity is there after SIGKILL and restart", async () => {
    const show = await kit.newShow();
    const d = await kit.daemon(show);
    const client = await connect(show, { name: "writer" });
    const acked: string[] = [];
    let stop = false;
    const writer = (async () => {
      for (let i = 0; !stop; i++) {
        try {
          const r = await client.request("entity.create", { tables: ["lighting_cues"], fields: { number: i } });
          acked.push(r.id);
        } catch {
          return;
        }
      }
    })();
    while (acked.length < 30) await new Promise((r) => setTimeout(r, 10));
    d.child.kill("SIGKILL");
    await d.exited;
    stop = true;
    await writer;
    client.close();

    const again = await kit.daemon(show);
    const q = await kit.run(["query", "table == 'lighting_cues'", "--dir", show, "--json"]);
    const ids = new Set(q.json<{ ids: string[] }>().ids);
    for (const id of acked) expect(ids.has(id), `acknowledged entity ${id} is missing`).toBe(true);
    const inspect = await kit.run(["store", "inspect", "--dir", show, "--json"]);
    expect(inspect.json<{ damaged: unknown[] }>().damaged).toEqual([]);
    expect((await again.stop()).code).toBe(0);
  });
});
