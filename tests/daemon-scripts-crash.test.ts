import fs from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connect } from "../protocol/index.ts";
import type { RunSummary } from "../protocol/index.ts";
import { CliKit } from "./fixtures/daemon-cli.ts";

const kit = new CliKit();

const CUES = 2000;

const BULK = `
function main()
  for i = 1, args.count do
    core.create_entity({ table = "lighting_cues", fields = { number = i, label = "bulk" } })
  end
end
`;

beforeAll(async () => {
  await kit.build();
}, 60_000);

async function bulkShow(): Promise<string> {
  const show = await kit.newShow();
  fs.writeFileSync(path.join(show, "workspace", "scripts", "bulk_cues.lua"), BULK);
  fs.appendFileSync(path.join(show, "openprod.toml"), `\n[script.bulk_cues]\nexecution_mode = "session"\ncapabilities = ["data.write:lighting.cue.*"]\n`);
  return show;
}

afterAll(async () => {
  await kit.cleanup();
});

describe("a daemon killed during a session commit loses nothing", () => {
  it.each([
    ["just after the commit is asked for", "request"],
    ["the moment the commit's bundle is durable", "bundle"],
  ] as const)("after SIGKILL %s and a restart, the session is either committed whole or still there to commit", async (_when, at) => {
    const show = await bulkShow();
    let daemon = await kit.daemon(show, ["--no-network"]);
    const c = await connect(show, { name: "crash-test" });
    const r = (await c.request("scripts.run", { script: "bulk_cues", args: { count: CUES } })) as RunSummary;
    expect(r).toMatchObject({ status: "ok", ops: CUES, sessionStatus: "open" });
    const session = r.sessionId as string;

    // The commit is in flight when the process dies.
    const bundle = new Promise<void>((res) => void c.subscribe((e) => e.type === "bundle" && res(), ["bundle"]));
    await new Promise((res) => setTimeout(res, 50));
    c.call("sessions.commit", { id: session }).catch(() => undefined);
    if (at === "bundle") await bundle;
    else await new Promise((res) => setTimeout(res, 15));
    daemon.child.kill("SIGKILL");
    await daemon.exited;
    c.close();

    daemon = await kit.daemon(show, ["--no-network"]);
    const d = await connect(show, { name: "after-restart" });
    const count = async (): Promise<number> => (await d.request("query", { expr: "table == 'lighting_cues' AND label == 'bulk'", idsOnly: true })).count;
    const before = await count();
    const open = (await d.request("sessions.list")).sessions.find((s) => s.id === session);
    // Exactly one of: committed whole (and gone), or untouched canonical with the whole session kept.
    if (open) {
      expect(before).toBe(0);
      expect(open.ops).toBe(CUES);
      expect(await d.request("sessions.commit", { id: session })).toMatchObject({ status: "committed", ops: CUES });
    } else {
      expect(before).toBe(CUES);
    }
    expect(await count()).toBe(CUES);
    expect((await d.request("sessions.list")).sessions).toEqual([]);
    d.close();
    await daemon.stop();
  }, 90_000);
});
