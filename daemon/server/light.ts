/**
 * The server's light face: the method registry and the core methods, without the script runtime
 * the server's index brings (an offline read serves the core methods in the CLI's process).
 */
export { MethodRegistry } from "./method-registry.ts";
export { registerCoreMethods } from "./core-methods.ts";
export { peerSettings } from "./peer-settings.ts";
