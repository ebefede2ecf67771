/**
 * One capability string of the Scripts Specification, parsed:
 * `net.osc:8000-8010`, `fs.read:imports/*`, `data.write:lighting.*`,
 * `ui.notify`, `native.lightwright`...
 */
import { ConfigError } from "../../crdt/vocabulary.ts";
import { suggest } from "../../crdt/vocabulary.ts";
import { parseFacetPattern } from "./facet-pattern.ts";
import type { FacetPattern } from "./facet-pattern.ts";
import { parsePort, parsePortList } from "./port-ranges.ts";
import type { PortRange } from "./port-ranges.ts";
import { compileGlob, outsideShowDir } from "./show-path-glob.ts";

/** Capabilities that take no argument. */
export const PLAIN_CAPABILITIES = ["net.http.client", "net.midi", "ui.navigate", "ui.notify", "ui.dialog"] as const;
export type PlainCapability = (typeof PLAIN_CAPABILITIES)[number];

export type FsKind = "fs.read" | "fs.write" | "fs.watch";
export type DataKind = "data.read" | "data.write";

export type Capability = { readonly text: string } & (
  | { readonly kind: PlainCapability }
  | { readonly kind: "net.osc"; readonly ports: readonly PortRange[] }
  | { readonly kind: "net.http.server"; readonly port: number }
  | { readonly kind: FsKind; readonly glob: string; readonly matcher: RegExp }
  | { readonly kind: DataKind; readonly pattern: FacetPattern }
  | { readonly kind: "native"; readonly name: string }
);

/** Every form, as a technician would write it: listed in errors. */
export const CAPABILITY_FORMS = [
  "net.osc:<ports>",
  "net.http.client",
  "net.http.server:<port>",
  "net.midi",
  "fs.read:<glob>",
  "fs.write:<glob>",
  "fs.watch:<glob>",
  "data.read:<facet>",
  "data.write:<facet>",
  "ui.navigate",
  "ui.notify",
  "ui.dialog",
  "native.<name>",
];

const EXAMPLES: Record<string, string> = {
  "net.osc": "net.osc:8000-8010",
  "net.http.server": "net.http.server:3000",
  "fs.read": "fs.read:imports/*",
  "fs.write": "fs.write:exports/*.csv",
  "fs.watch": "fs.watch:imports/*",
  "data.read": "data.read:lighting.*",
  "data.write": "data.write:lighting.*",
};
const NATIVE_NAME = /^[a-z][a-z0-9_]*$/;

/**
 * The capability, or the reason the string is not one (a sentence naming
 * what was expected). parseCapability wraps this; parseCapabilities adds the
 * file and line.
 */
export function readCapability(text: string): Capability | string {
  const colon = text.indexOf(":");
  const kind = colon < 0 ? text : text.slice(0, colon);
  const arg = colon < 0 ? null : text.slice(colon + 1);
  if ((PLAIN_CAPABILITIES as readonly string[]).includes(kind)) {
    if (arg !== null) return `"${kind}" takes no argument; write "${kind}"`;
    return { text, kind: kind as PlainCapability };
  }
  if (kind.startsWith("native.")) {
    const name = kind.slice("native.".length);
    if (arg !== null || !NATIVE_NAME.test(name)) return `expected "native.<name>" with a lower-case name, e.g. "native.lightwright"`;
    return { text, kind: "native", name };
  }
  const example = EXAMPLES[kind];
  if (example === undefined) {
    const known = [...PLAIN_CAPABILITIES, ...Object.keys(EXAMPLES)];
    // "osc" or "midi" written without the "net." prefix is the commonest slip.
    const bare = known.find((k) => k.endsWith(`.${kind}`));
    const hint = bare !== undefined ? ` (did you mean "${bare}"?)` : suggest(kind, known);
    return `unknown capability${hint}; expected one of ${CAPABILITY_FORMS.map((f) => `"${f}"`).join(", ")}`;
  }
  if (arg === null || arg === "") return `"${kind}" needs an argument, e.g. "${example}"`;
  switch (kind) {
    case "net.osc": {
      const ports = parsePortList(arg);
      return typeof ports === "string" ? `${ports} (expected e.g. "${example}" or "net.osc:8000,9000-9001")` : { text, kind, ports };
    }
    case "net.http.server": {
      const port = parsePort(arg);
      return typeof port === "string" ? `${port} (expected e.g. "${example}")` : { text, kind, port };
    }
    case "fs.read":
    case "fs.write":
    case "fs.watch": {
      const bad = outsideShowDir(arg);
      if (bad !== null) return `the glob "${arg}" is refused: ${bad} (expected e.g. "${example}")`;
      return { text, kind, glob: arg, matcher: compileGlob(arg) };
    }
    case "data.read":
    case "data.write": {
      const pattern = parseFacetPattern(arg);
      return typeof pattern === "string" ? `${pattern}, e.g. "${example}"` : { text, kind, pattern };
    }
  }
  return `unknown capability; expected one of ${CAPABILITY_FORMS.join(", ")}`;
}

/** Parses one capability string; a bad one is a ConfigError quoting it. */
export function parseCapability(text: string): Capability {
  const c = readCapability(text);
  if (typeof c === "string") throw new ConfigError(`capability "${text}": ${c}`, { capability: text });
  return c;
}
