import fs from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CliKit } from "./fixtures/daemon-cli.ts";

const kit = new CliKit();
beforeAll(() => kit.build(), 60_000);
afterAll(() => kit.cleanup());

describe("two peers of one show sync on loopback", () => {
  it("a value set through one peer's CLI is read through the other's", async () => {
    const a = await kit.newShow();
    // The second peer: a copy of the show (same workspace id) and the same workspace key, as docs/getting-started.md says.
    const b = path.join(kit.tempDir("op-peer-b-"), "show");
    fs.cpSync(a, b, { recursive: true, filter: (src) => !src.includes(`${path.sep}.openprod${path.sep}`) || src.endsWith("workspace.key") });
    const da = await kit.daemon(a);
    const addr = (await da.ready).addresses[0];
    const tomlB = path.join(b, "openprod.toml");
    fs.writeFileSync(tomlB, fs.readFileSync(tomlB, "utf8").replace("connect = []", `connect = ["${addr}"]`));
    const db = await kit.daemon(b);
    expect((await db.ready).peerId).not.toBe((await da.ready).peerId);

    const created = await kit.run(["create", "lighting_cues", "number=7", "--dir", a, "--json"]);
    const id = created.json<{ id: string }>().id;
    expect((await kit.run(["set", id, "label", "Sync me", "--dir", a])).code).toBe(0);

    let seen = "";
    const deadline = Date.now() + 20_000;
    while (Date.now() < deadline) {
      const r = await kit.run(["get", id, "label", "--dir", b]);
      seen = r.stdout.trim();
      if (r.code === 0 && seen === "Sync me") break;
      await new Promise((res) => setTimeout(res, 200));
    }
    expect(seen).toBe("Sync me");
    const peers = await kit.run(["peers", "--dir", b, "--json"]);
    expect(peers.json<{ peers: { peerId: string }[] }>().peers.map((p) => p.peerId)).toContain((await da.ready).peerId);
    await Promise.all([da.stop(), db.stop()]);
  });
});
