/**
 * `openprod init <dir>`: a new show directory holding a working example of
 * every piece (the example show, comments kept), with its own workspace id
 * and a fresh workspace key.
 */
import fs from "node:fs";
import path from "node:path";
import { randomBytes } from "node:crypto";
import { exampleShow } from "./package-root.ts";

export interface InitResult {
  dir: string;
  workspaceId: string;
  workspaceName: string;
  keyFile: string;
  files: string[];
}

export interface InitOptions {
  /** `[peer] listen` for the new show (multiaddrs, or bare ports on the example's loopback address). */
  listen?: string[];
  random?: (n: number) => Buffer;
}

/** Copies the example show to `dir` (which must not exist or be empty). */
export async function initShow(dir: string, opts: InitOptions = {}): Promise<InitResult> {
  const random = opts.random ?? randomBytes;
  const { InvalidOperation, listenPorts, workspaceKeys } = await import("../offline/index.ts");
  const root = path.resolve(dir);
  if (fs.existsSync(root) && fs.readdirSync(root).length > 0) {
    throw new InvalidOperation(`${root} already exists and is not empty; init writes a new show directory (choose a new path)`, { dir: root });
  }
  const source = exampleShow();
  fs.mkdirSync(root, { recursive: true });
  fs.cpSync(source, root, { recursive: true, filter: (src) => path.basename(src) !== ".openprod" });

  const workspaceId = `ws-${random(10).toString("hex")}`;
  const workspaceName = path.basename(root);
  const configFile = path.join(root, "openprod.toml");
  let text = fs
    .readFileSync(configFile, "utf8")
    .replace(/^id = "[^"]*"/m, `id = "${workspaceId}"`)
    .replace(/^name = "[^"]*"/m, `name = ${JSON.stringify(workspaceName)}`);
  if (opts.listen !== undefined && opts.listen.length > 0) {
    const [{ listenOverride }, { editPeerSection, peerList }] = await Promise.all([listenPorts(), import("./peer-section.ts")]);
    text = editPeerSection(text, { set: { listen: listenOverride(opts.listen, peerList(text, "listen")) } });
  }
  fs.writeFileSync(configFile, text);

  const { generateWorkspaceKey, writeWorkspaceKey } = await workspaceKeys();
  const stateDir = path.join(root, ".openprod");
  fs.mkdirSync(stateDir, { recursive: true, mode: 0o700 });
  const keyFile = path.join(stateDir, "workspace.key");
  writeWorkspaceKey(keyFile, generateWorkspaceKey());

  const files = (fs.readdirSync(root, { recursive: true }) as string[]).filter((f) => fs.statSync(path.join(root, f)).isFile()).sort();
  return { dir: root, workspaceId, workspaceName, keyFile, files };
}
