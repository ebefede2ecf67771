/**
 * The console as the daemon starts it: `console.url` on the method registry
 * (for `openprod console`), and, unless `[console] enabled = false`, the
 * token and the server.
 */
import { InvalidOperation } from "../../crdt/index.ts";
import type { EventHub } from "../event-hub.ts";
import type { Logger } from "../logger.ts";
import type { MethodRegistry } from "../method-registry.ts";
import { obj } from "../params.ts";
import { ConsoleServer } from "./console-server.ts";
import type { ConsoleSettings } from "./console-settings.ts";
import { loadOrCreateConsoleToken } from "./console-token.ts";

export interface StartConsoleOptions {
  settings: ConsoleSettings;
  /** `.openprod/`, where the token is kept. */
  stateDir: string;
  /** openprod.toml, named when the console is off. */
  configFile: string;
  assetsDir: string;
  methods: MethodRegistry;
  events: EventHub;
  log: Logger;
}

/** Null when the show turned the console off. */
export async function startConsole(opts: StartConsoleOptions): Promise<ConsoleServer | null> {
  let web: ConsoleServer | null = null;
  opts.methods.register("console.url", obj({}), () => {
    if (web === null) throw new InvalidOperation(`the web console is off for this show ([console] enabled = false in ${opts.configFile})`, { file: opts.configFile });
    return { url: web.url, urlWithToken: web.urlWithToken };
  });
  if (!opts.settings.enabled) return null;
  const token = loadOrCreateConsoleToken(opts.stateDir);
  web = await ConsoleServer.listen({ settings: opts.settings, token, assetsDir: opts.assetsDir, methods: opts.methods, events: opts.events, log: opts.log });
  return web;
}
