/**
 * The daemon's socket protocol: the wire vocabulary (values, operations,
 * bundles, entities, conflicts, runs, sessions, triggers, peers, events,
 * errors), the method and event maps, and the client library. It imports
 * nothing of daemon/: the daemon maps its internals onto these types.
 */
export * from "./light.ts";
// What a browser cannot bundle (node:net, node:path): the local-socket client and its path.
export { connect } from "./client.ts";
export { socketPath, MAX_SOCKET_PATH_BYTES } from "./socket-path.ts";
