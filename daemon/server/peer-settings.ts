/**
 * `[peer]` of openprod.toml: listen, connect, mdns, allow, key_file. Checked
 * here with the config folder's helpers, so mistakes are reported at their
 * file and line like every other key.
 */
import os from "node:os";
import path from "node:path";
import { checkKeys, optionalBool, optionalString, stringList } from "../config/index.ts";
import type { RawSection } from "../config/index.ts";
import { DEFAULT_LISTEN } from "../peer/light.ts";

export interface PeerSettings {
  /** This peer's name for people (conflicts, history, `peers`); default the hostname. */
  name: string;
  listen: string[];
  connect: string[];
  mdns: boolean;
  /** Only these peer ids may connect; empty: any peer holding the workspace key. */
  allow: string[];
  /** Absolute path of the workspace key file (default `.openprod/workspace.key`). */
  keyFile: string;
}

const KEYS = ["name", "listen", "connect", "mdns", "allow", "key_file"];

export function peerSettings(section: RawSection | null, showRoot: string): PeerSettings {
  const defaultKey = path.join(showRoot, ".openprod", "workspace.key");
  if (section === null) return { name: os.hostname(), listen: [...DEFAULT_LISTEN], connect: [], mdns: false, allow: [], keyFile: defaultKey };
  const { doc, path: at, values } = section;
  checkKeys(doc, at, values, KEYS);
  const keyFile = optionalString(doc, at, values, "key_file", "");
  return {
    name: optionalString(doc, at, values, "name", "") || os.hostname(),
    listen: stringList(doc, at, values, "listen", DEFAULT_LISTEN),
    connect: stringList(doc, at, values, "connect", []),
    mdns: optionalBool(doc, at, values, "mdns", false),
    allow: stringList(doc, at, values, "allow", []),
    keyFile: keyFile === "" ? defaultKey : path.resolve(showRoot, keyFile),
  };
}
