/**
 * The script debugger: a Debug Adapter Protocol server (TCP on loopback for the show's owner,
 * or an owner-only Unix socket behind `openprod debug --stdio`) driving a run's agent in its
 * Lua worker (engine/debug-agent.ts).
 */
export { DebugSession } from "./dap-session.ts";
export type { DapConnection, DebugRunEnd, DebuggedRun, DebugSessionOptions } from "./dap-session.ts";
export { DapServer, sessionSocketPath } from "./dap-server.ts";
export { DebugTarget } from "./debug-target.ts";
export { DapFramingError, DapReader, encodeMessage } from "./dap-framing.ts";
export type { DapEvent, DapMessage, DapRequest, DapResponse } from "./dap-types.ts";
