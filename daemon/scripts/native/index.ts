/**
 * Native capabilities: TypeScript extensions scripts reach as globals when granted
 * `native.<name>`. Ships `lightwright` (Lightwright exchange XML).
 */
export { createNativeRegistry } from "./native-registry.ts";
export type { NativeCapability, NativeContext, NativeRegistry, NativeRunParts } from "./native-registry.ts";
export { lightwrightCapability } from "./lightwright/lightwright-capability.ts";
export { parseLightwrightXml, serializeLightwrightXml } from "./lightwright/lightwright-xml.ts";
export type { LightwrightColumn } from "./lightwright/lightwright-xml.ts";
