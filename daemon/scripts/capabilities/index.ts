/**
 * Capabilities: what a script may do beyond reading the workspace. Parsing of
 * every capability string of the Scripts Specification, and the checks the
 * runtime makes on each call.
 */
export { parseCapability, readCapability, CAPABILITY_FORMS, PLAIN_CAPABILITIES } from "./capability.ts";
export type { Capability, DataKind, FsKind, PlainCapability } from "./capability.ts";
export { parseCapabilities } from "./parse-capabilities.ts";
export type { CapabilityListSource } from "./parse-capabilities.ts";
export { CapabilitySet } from "./capability-set.ts";
export type { CapabilityRequest } from "./capability-set.ts";
export type { FacetPattern } from "./facet-pattern.ts";
export type { PortRange } from "./port-ranges.ts";
export { writeGate } from "./write-gate.ts";
export { writeRefusal } from "./write-refusal.ts";
