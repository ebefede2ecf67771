/**
 * The protocol's light face: the whole wire vocabulary, the method and event maps and the
 * WebSocket client, without the Node socket client (node:net, node:path): what the web
 * console bundles for a browser. index.ts adds the local-socket client.
 */
export type { Client, ConnectOptions, Subscription } from "./client.ts";
export { connectWebSocket } from "./ws-client.ts";
export type { WebSocketConnectOptions, WebSocketConstructor, WebSocketLike } from "./ws-client.ts";
export { RpcError, DaemonNotRunning, RPC_CODES } from "./errors.ts";
export type { ErrorCode, WireErrorData, WireErrorType } from "./errors.ts";
export { EVENT_TYPES } from "./events.ts";
export type { DaemonEvent, EventMap, EventType, EventNotification } from "./events.ts";
export type * from "./methods.ts";
export { LineSplitter, MAX_MESSAGE_BYTES } from "./line-splitter.ts";
export { DAEMON_VERSION } from "./version.ts";
export { SCRIPT_EVENT_TYPES } from "./script-events.ts";
export type * from "./script-methods.ts";
export type * from "./debug-methods.ts";
export type * from "./console-methods.ts";
export type * from "./values.ts";
export type * from "./operations.ts";
export type * from "./bundles.ts";
export type * from "./entities.ts";
export type * from "./conflicts.ts";
export type * from "./peers.ts";
export type * from "./runs.ts";
export type * from "./sessions.ts";
export type * from "./triggers.ts";
export type * from "./runtime-events.ts";
export { SCRIPT_ARG_TYPES } from "./script-args.ts";
export type { ScriptArgSpec, ScriptArgType } from "./script-args.ts";
export { parseHlc, compareHlc } from "./hlc.ts";
export type { HlcTimestamp } from "./hlc.ts";
export type * from "./invite-methods.ts";
