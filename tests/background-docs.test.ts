import dgram from "node:dgram";
import fs from "node:fs";
import { encode, Message } from "node-osc";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseWorkspaceConfig } from "../daemon/config/index.ts";
import { parseScriptConfig } from "../daemon/scripts/runtime/index.ts";
import { freeUdpPort, until } from "./fixtures/io-kit/ports.ts";
import { bgKit } from "./fixtures/background-kit/kit.ts";
import type { BgKit } from "./fixtures/background-kit/kit.ts";

const doc = fs.readFileSync(new URL("../docs/background-scripts.md", import.meta.url), "utf8");
const block = (lang: string, needle: string): string => {
  const found = [...doc.matchAll(new RegExp("```" + lang + "\\n([\\s\\S]*?)```", "g"))].map((m) => m[1]).find((b) => b.includes(needle));
  if (found === undefined) throw new Error(`no ${lang} block with ${needle} in docs/background-scripts.md`);
  return found;
};
const section = (body: string) => {
  const [, name] = /\[script\.(\w+)\]/.exec(body) ?? [];
  return parseWorkspaceConfig("/show/openprod.toml", `[workspace]\nname = "S"\nid = "ws-1"\n\n${body}`).scripts[name as string];
};

let kit: BgKit;
beforeAll(async () => {
  kit = await bgKit();
});
afterAll(() => kit.close());

describe("the background scripts guide's examples work as written", () => {
  it("its configuration example is valid and means what the guide says", () => {
    const c = parseScriptConfig(section(block("toml", "[script.osc_listener]")));
    expect(c).toMatchObject({ mode: "background", executionMode: "autoCommit", autostart: true, restart: { backoffMs: 1000, maxBackoffMs: 60_000 }, shutdownTimeoutMs: 5000 });
    expect(parseScriptConfig(section(`[script.x]\nmode = "background"\nrestart = true`)).restart).toEqual({ backoffMs: 1000, maxBackoffMs: 60_000 });
    expect(() => parseScriptConfig(section(`[script.x]\nmode = "session"`))).toThrow(/openprod\.toml:6: \[script\.x\] mode: must be "manual" or "background".*write execution_mode = "session"/);
    expect(() => parseScriptConfig(section(`[script.x]\nautostart = true`))).toThrow(/:6: .*autostart: only applies to background scripts: add mode = "background"/);
    expect(() => parseScriptConfig(section(`[script.x]\nmode = "background"\nrestart = { backoff_ms = 500, max_backoff_ms = 100 }`))).toThrow(/:7: .*max_backoff_ms: must be at least backoff_ms \(500\)/);
    expect(() => parseScriptConfig(section(`[script.x]\nmode = "background"\nrestart = { backof_ms = 5 }`))).toThrow(/unknown key/);
  });

  it("its listener fires cues until stopped, then says goodbye", async () => {
    const port = await freeUdpPort();
    kit.script("guide_listener", block("lua", "osc.listen"), { mode: "background", executionMode: "autoCommit", capabilities: [`net.osc:${port}`] });
    const cue = (await kit.store.apply([{ op: "CreateEntity", tables: ["lighting_cues"], fields: { number: 5, status: "standby" } }], { actor: { kind: "user", name: "sm" } })).results[0]?.id as string;
    await kit.runtime.startBackground("guide_listener", { args: { port } });
    await until(() => kit.logs("guide_listener").includes(`listening on ${port}`), 5000, "listening");
    const sender = dgram.createSocket("udp4");
    await new Promise<void>((resolve, reject) => sender.send(encode(new Message("/cue/fire", 5)), port, "127.0.0.1", (e) => (e ? reject(e) : resolve())));
    sender.close();
    await until(() => kit.store.getField(cue, "status") === "running", 5000, "cue running");
    const st = await kit.runtime.stopBackground("guide_listener", "user");
    expect(st.state).toBe("stopped");
    expect(kit.logs("guide_listener").at(-1)).toBe("listener stopped");
  });
});
