/**
 * `openprod.toml`, the show's own configuration. `[workspace]` and `[store]`
 * are checked here; `[peer]`, `[console]`, `[script.*]` and `[trigger.*]` are passed on raw
 * (with their positions) to the parts that own them.
 */
import { promises as fs } from "node:fs";
import { ConfigError } from "../crdt/vocabulary.ts";
import { checkKeys, configError, parseTomlDocument } from "./toml-document.ts";
import type { TomlDocument } from "./toml-document.ts";
import { expectTable, optionalBool, optionalInt, requireString } from "./config-values.ts";
import { rawSection, rawSections } from "./raw-section.ts";
import type { RawSection } from "./raw-section.ts";
import { CONFIG_FILE_NAME, showDirectory } from "./show-directory.ts";

export interface WorkspaceConfig {
  file: string;
  doc: TomlDocument;
  workspace: { name: string; id: string };
  store: { fsync: boolean; compactEvery: number };
  peer: RawSection | null;
  /** `[user] name`: the person writing from this machine's CLI (bundles carry actor user:<name>). */
  user: { name: string } | null;
  /** `[console]`, checked by the console server (daemon/server/console). */
  console: RawSection | null;
  scripts: Record<string, RawSection>;
  triggers: Record<string, RawSection>;
}

export const DEFAULT_COMPACT_EVERY = 1000;

const SECTIONS = ["workspace", "store", "peer", "user", "console", "script", "trigger"];
const WORKSPACE_KEYS = ["name", "id"];
const STORE_KEYS = ["fsync", "compact_every"];
/** Ids are compared between peers and appear in logs and paths: no spaces or odd characters. */
const WORKSPACE_ID = /^[A-Za-z0-9._-]+$/;

export function parseWorkspaceConfig(file: string, source: string): WorkspaceConfig {
  const doc = parseTomlDocument(file, source);
  checkKeys(doc, [], doc.data, SECTIONS);

  if (doc.data.workspace === undefined) {
    throw configError(doc, [], `missing [workspace] section (name = "...", id = "..."); openprod init writes one`);
  }
  const ws = expectTable(doc, ["workspace"], doc.data.workspace);
  checkKeys(doc, ["workspace"], ws, WORKSPACE_KEYS);
  const name = requireString(doc, ["workspace"], ws, "name");
  const id = requireString(doc, ["workspace"], ws, "id");
  if (!WORKSPACE_ID.test(id)) {
    throw configError(doc, ["workspace", "id"], `"${id}" is not a workspace id (letters, digits, ".", "_", "-")`);
  }

  const store = doc.data.store === undefined ? {} : expectTable(doc, ["store"], doc.data.store);
  checkKeys(doc, ["store"], store, STORE_KEYS);

  let user: { name: string } | null = null;
  if (doc.data.user !== undefined) {
    const u = expectTable(doc, ["user"], doc.data.user);
    checkKeys(doc, ["user"], u, ["name"]);
    user = { name: requireString(doc, ["user"], u, "name") };
  }

  return {
    file,
    doc,
    user,
    workspace: { name, id },
    store: {
      fsync: optionalBool(doc, ["store"], store, "fsync", false),
      compactEvery: optionalInt(doc, ["store"], store, "compact_every", DEFAULT_COMPACT_EVERY, 1),
    },
    peer: doc.data.peer === undefined ? null : rawSection(doc, ["peer"], doc.data.peer),
    console: doc.data.console === undefined ? null : rawSection(doc, ["console"], doc.data.console),
    scripts: rawSections(doc, "script"),
    triggers: rawSections(doc, "trigger"),
  };
}

/** Reads `<showDir>/openprod.toml`. */
export async function loadWorkspaceConfig(showDir: string): Promise<WorkspaceConfig> {
  const dir = showDirectory(showDir);
  let source: string;
  try {
    source = await fs.readFile(dir.configFile, "utf8");
  } catch (e) {
    const code = typeof e === "object" && e !== null && "code" in e ? (e as { code: unknown }).code : undefined;
    if (code === "ENOENT") {
      throw new ConfigError(
        `no ${CONFIG_FILE_NAME} in ${dir.root} (looked for ${dir.configFile}); is this a show directory? \`openprod init <dir>\` creates one`,
        { file: dir.configFile },
      );
    }
    throw new ConfigError(`${dir.configFile}: cannot read: ${String(e)}`, { file: dir.configFile });
  }
  return parseWorkspaceConfig(dir.configFile, source);
}
