/**
 * `[console]` of openprod.toml: `enabled` (default true), `listen` (default
 * `127.0.0.1:0`, a free loopback port) and `allow_network` (default false).
 * Listening beyond loopback must be asked for twice, by the address and by
 * `allow_network = true`, because the console can do everything the socket
 * can: whoever holds the token and reaches the port runs the show.
 */
import { checkKeys, configError, optionalBool, optionalString } from "../../config/index.ts";
import type { RawSection } from "../../config/index.ts";

export interface ConsoleSettings {
  enabled: boolean;
  host: string;
  /** 0: the OS picks a free port at each start. */
  port: number;
  allowNetwork: boolean;
}

export const DEFAULT_CONSOLE_LISTEN = "127.0.0.1:0";
const KEYS = ["enabled", "listen", "allow_network"];

export function consoleSettings(section: RawSection | null): ConsoleSettings {
  if (section === null) return { enabled: true, host: "127.0.0.1", port: 0, allowNetwork: false };
  const { doc, path: at, values } = section;
  checkKeys(doc, at, values, KEYS);
  const listen = optionalString(doc, at, values, "listen", DEFAULT_CONSOLE_LISTEN);
  const m = /^(\[[0-9a-fA-F:.]+\]|[^:[\]]+):(\d{1,5})$/.exec(listen);
  if (!m || Number(m[2]) > 65535) {
    throw configError(doc, [...at, "listen"], `${JSON.stringify(listen)} is not "host:port" (e.g. "127.0.0.1:8470"; port 0 picks a free one)`);
  }
  const host = m[1].startsWith("[") ? m[1].slice(1, -1) : m[1];
  const allowNetwork = optionalBool(doc, at, values, "allow_network", false);
  if (!isLoopback(host) && !allowNetwork) {
    throw configError(
      doc,
      [...at, "listen"],
      `${JSON.stringify(listen)} is reachable from the network; the console controls the whole show, so this needs allow_network = true as well (see docs/console.md, "On the venue network")`,
    );
  }
  return { enabled: optionalBool(doc, at, values, "enabled", true), host, port: Number(m[2]), allowNetwork };
}

export function isLoopback(host: string): boolean {
  return host === "localhost" || host === "::1" || /^127\.\d+\.\d+\.\d+$/.test(host);
}
