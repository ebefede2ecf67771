import fs from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CliKit } from "./fixtures/daemon-cli.ts";
import type { DaemonProcess } from "./fixtures/daemon-cli.ts";
import { until } from "./helpers/until.ts";

const kit = new CliKit();
let desk = "";
let booth = "";
let a: DaemonProcess;
let b: DaemonProcess;

function nameShow(dir: string, name: string): void {
  const file = path.join(dir, "openprod.toml");
  const text = fs.readFileSync(file, "utf8").replace(/^name = "(Desk|Booth)"\n/m, "");
  fs.writeFileSync(file, text.replace("[peer]\n", `[peer]\nname = "${name}"\n`));
}

beforeAll(async () => {
  await kit.build();
  desk = await kit.newShow();
  nameShow(desk, "Desk");
  a = await kit.daemon(desk);
  // The second peer set up by hand, as the daemon's banner explains (openprod join does it in one step).
  booth = path.join(kit.tempDir("op-booth-"), "show");
  fs.cpSync(desk, booth, { recursive: true, filter: (src) => !src.includes(`${path.sep}.openprod`) || src.endsWith("workspace.key") || src.endsWith(".openprod") });
  nameShow(booth, "Booth");
  // The booth runs a newer stage-management module (same schema): the peers tell each other.
  const sm = path.join(booth, "modules", "sm", "module.toml");
  fs.writeFileSync(sm, fs.readFileSync(sm, "utf8").replace(/^version = "0\.3\.0"$/m, 'version = "0.4.0"'));
  b = await kit.daemon(booth);
  const addr = (await a.ready).addresses[0];
  const r = await kit.run(["peers", "connect", addr, "--dir", booth]);
  expect(r.code, r.stderr).toBe(0);
}, 90_000);

afterAll(async () => {
  await a?.stop();
  await b?.stop();
  await kit.cleanup();
});

describe("peers have names, shown in peers, status, history and conflicts", () => {
  it("peers and status show this peer's [peer] name and the names the others told", async () => {
    const p = await kit.run(["peers", "--dir", booth]);
    expect(p.stdout).toMatch(/^this peer Booth \(12D3\w+\)/);
    expect(p.stdout).toMatch(/\n {2}Desk \(12D3\w+\) at \/ip4\/127\.0\.0\.1\//);
    expect(p.stdout).toContain("warning: other modules than this peer: it runs sm@0.3.0, this peer sm@0.4.0");
    const lagged = await until("the booth in sync with the desk", async () => {
      const q = await kit.run(["peers", "--dir", booth, "--json"]);
      const peer = q.json<{ peers: { behindMs: number; lastSyncAt: number | null }[] }>().peers[0];
      return peer && peer.behindMs === 0 && peer.lastSyncAt !== null ? peer : undefined;
    });
    expect(lagged.behindMs).toBe(0);
    const s = await kit.run(["status", "--dir", booth, "--json"]);
    expect(s.json()).toMatchObject({ peerName: "Booth", peers: 1 });
  });

  it("history on one peer says which peer each bundle came from; conflicts name the entity and both peers", async () => {
    const cue = (await kit.run(["create", "lighting_cues", "number=7", "label=Preset", "--dir", desk, "--json"])).json<{ id: string }>().id;
    const history = await until("the cue's bundle on the booth", async () => {
      const h = await kit.run(["history", "--entity", cue, "--dir", booth]);
      return h.stdout.includes("Q7 Preset") ? h.stdout : undefined;
    });
    expect(history).toMatch(/^\d\d:\d\d:\d\d {2}app:openprod-cli {2}on Desk {2}bundle /);

    // Concurrent writes: the booth edits while cut off from the desk.
    await b.stop();
    b = await kit.daemon(booth, ["--no-network"]);
    expect((await kit.run(["set", cue, "label", "Booth label", "--dir", booth])).code).toBe(0);
    expect((await kit.run(["set", cue, "label", "Desk label", "--dir", desk])).code).toBe(0);
    await b.stop();
    b = await kit.daemon(booth);
    expect((await kit.run(["peers", "connect", (await a.ready).addresses[0], "--dir", booth])).code).toBe(0);
    const text = await until("the conflict on the booth", async () => {
      const c = await kit.run(["conflicts", "--dir", booth]);
      return c.stdout.includes("label") ? c.stdout : undefined;
    });
    expect(text).toMatch(/Q7 (Booth|Desk) label \(…\w{6}\) label {2}shows /);
    expect(text).toMatch(/Booth label \(Booth, app:openprod-cli at \d\d:\d\d:\d\d\)/);
    expect(text).toMatch(/Desk label \(Desk, app:openprod-cli at \d\d:\d\d:\d\d\)/);
  });
});

describe("the daemon's banner tells how to add a peer in lines that can be pasted as they are", () => {
  it("the connect line is valid TOML for the [peer] section and names this peer's address", async () => {
    const { startDaemon } = await import("../daemon/main.ts");
    const { parse } = await import("smol-toml");
    const { PassThrough } = await import("node:stream");
    const show = path.join(kit.tempDir("op-banner-"), "show");
    fs.cpSync(desk, show, { recursive: true, filter: (src) => !src.includes(`${path.sep}.openprod`) || src.endsWith("workspace.key") || src.endsWith(".openprod") });
    const out = new PassThrough();
    let text = "";
    out.on("data", (d: Buffer) => (text += d.toString()));
    const d = await startDaemon({ showDir: show, console: null, banner: out });
    try {
      const line = text.split("\n").find((l) => l.trim().startsWith("connect = "));
      expect(line, text).toBeDefined();
      const parsed = parse(`[peer]\n${(line as string).trim()}\n`) as { peer: { connect: string[] } };
      expect(parsed.peer.connect).toEqual([d.peer?.addresses()[0]]);
    } finally {
      await d.stop();
    }
  });
});
