/** The daemon's socket protocol: method and event types, errors, and the client library. */
export { connect } from "./client.ts";
export type { Client, ConnectOptions, Subscription } from "./client.ts";
export { connectWebSocket } from "./ws-client.ts";
export type { WebSocketConnectOptions, WebSocketConstructor, WebSocketLike } from "./ws-client.ts";
export { RpcError, DaemonNotRunning, RPC_CODES } from "./errors.ts";
export type { WireErrorData, WireErrorType } from "./errors.ts";
export { EVENT_TYPES } from "./events.ts";
export type { DaemonEvent, EventMap, EventType, EventNotification } from "./events.ts";
export type * from "./methods.ts";
export { LineSplitter, MAX_MESSAGE_BYTES } from "./line-splitter.ts";
export { socketPath, MAX_SOCKET_PATH_BYTES } from "./socket-path.ts";
export { DAEMON_VERSION } from "./version.ts";
export { SCRIPT_EVENT_TYPES } from "./script-events.ts";
export type { DialogEvent, DialogClosed, TriggerFired } from "./script-events.ts";
export type * from "./script-methods.ts";
export type * from "./console-methods.ts";
export type * from "./invite-methods.ts";
