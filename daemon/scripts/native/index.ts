/**
 * Native capabilities: TypeScript extensions scripts reach as globals when granted
 * `native.<name>`. Ships `lightwright` (Lightwright exchange XML).
 */
export { createNativeRegistry } from "./native-registry.ts";
export type { NativeCapability, NativeContext, NativeRegistry, NativeRunParts } from "./native-registry.ts";
export { lightwrightCapability, parseLightwrightXml, serializeLightwrightXml } from "./lightwright/index.ts";
export type { LightwrightColumn } from "./lightwright/index.ts";
