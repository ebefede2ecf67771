/** The local socket server: JSON-RPC methods, event fan-out, logging, and the store/peer glue the daemon needs. */
export { RpcServer } from "./rpc-server.ts";
export type { RpcServerOptions } from "./rpc-server.ts";
export { MethodRegistry } from "./method-registry.ts";
export type { CallContext, Handler } from "./method-registry.ts";
export { EventHub } from "./event-hub.ts";
export type { EventListener } from "./event-hub.ts";
export { registerCoreMethods } from "./core-methods.ts";
export type { CoreDeps } from "./core-methods.ts";
export { bridgeEvents } from "./store-events.ts";
export { peerSettings } from "./peer-settings.ts";
export type { PeerSettings } from "./peer-settings.ts";
export { createLogger } from "./logger.ts";
export type { Logger, LogFormat, LogRecord, LoggerOptions } from "./logger.ts";
export { InvalidParams, obj, opt, str, nonEmpty, int, num, bool, value, list, record, oneOf } from "./params.ts";
export type { Check } from "./params.ts";
export { operation, OPERATION_NAMES } from "./operation-check.ts";
export { toWireError } from "./wire-error.ts";
