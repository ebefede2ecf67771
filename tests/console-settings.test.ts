import { describe, expect, it } from "vitest";
import { parseWorkspaceConfig } from "../daemon/config/index.ts";
import { consoleSettings } from "../daemon/server/index.ts";

const HEAD = `[workspace]\nname = "Show"\nid = "ws-1"\n`;
const settings = (toml: string) => consoleSettings(parseWorkspaceConfig("openprod.toml", HEAD + toml).console);

describe("[console] in openprod.toml", () => {
  it("defaults to on, loopback, a free port", () => {
    expect(settings("")).toEqual({ enabled: true, host: "127.0.0.1", port: 0, allowNetwork: false });
    expect(settings(`[console]\nlisten = "127.0.0.1:8470"\n`)).toMatchObject({ host: "127.0.0.1", port: 8470 });
    expect(settings(`[console]\nenabled = false\n`).enabled).toBe(false);
    expect(settings(`[console]\nlisten = "[::1]:8470"\n`)).toMatchObject({ host: "::1", port: 8470 });
  });

  it("listening beyond loopback needs allow_network = true, said at the line", () => {
    expect(() => settings(`[console]\nlisten = "0.0.0.0:8470"\n`)).toThrow(/openprod\.toml:5: \[console\] listen: "0\.0\.0\.0:8470" is reachable from the network.*allow_network = true/);
    expect(settings(`[console]\nlisten = "0.0.0.0:8470"\nallow_network = true\n`)).toMatchObject({ host: "0.0.0.0", allowNetwork: true });
  });

  it("a malformed address or an unknown key is a ConfigError naming it", () => {
    expect(() => settings(`[console]\nlisten = "8470"\n`)).toThrow(/\[console\] listen: "8470" is not "host:port"/);
    expect(() => settings(`[console]\nlisten = "127.0.0.1:99999"\n`)).toThrow(/is not "host:port"/);
    expect(() => settings(`[console]\nport = 8470\n`)).toThrow(expect.objectContaining({ code: "ConfigError", message: expect.stringMatching(/port/) }));
  });
});
