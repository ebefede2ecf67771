/** The web console's server side: `[console]` settings, the access token, and the HTTP + WebSocket server. */
export { ConsoleServer, CONSOLE_ACTOR_PREFIX } from "./console-server.ts";
export type { ConsoleServerOptions } from "./console-server.ts";
export { consoleSettings, isLoopback, DEFAULT_CONSOLE_LISTEN } from "./console-settings.ts";
export type { ConsoleSettings } from "./console-settings.ts";
export { loadOrCreateConsoleToken, TOKEN_FILE } from "./console-token.ts";
export { startConsole } from "./start-console.ts";
export type { StartConsoleOptions } from "./start-console.ts";
