/** Lightwright exchange XML: the parser and writer, and the `native.lightwright` capability scripts use. */
export { lightwrightCapability } from "./lightwright-capability.ts";
export { parseLightwrightXml, serializeLightwrightXml } from "./lightwright-xml.ts";
export type { LightwrightColumn } from "./lightwright-xml.ts";
