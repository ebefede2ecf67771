/**
 * `openprod join <addr> --code C` / `openprod init <dir> --join <addr> --code C`:
 * a new show directory from a running peer's invite. Everything is fetched
 * and checked before the first file is written; the directory is filled in a
 * temporary sibling and moved into place, so a refused join leaves nothing.
 */
import fs from "node:fs";
import path from "node:path";
import { InvalidOperation, joining } from "../offline/index.ts";
import type { JoinOffer } from "../offline/index.ts";
import { editPeerSection, peerList } from "./peer-section.ts";

export interface JoinOptions {
  dir: string;
  address: string;
  code: string;
  /** `[peer] listen` for the new show (ports or multiaddrs, as `init --listen`). */
  listen?: string[];
  /** `[peer] name` of the new show (default: its hostname, as any show). */
  name?: string;
}

export interface JoinResult {
  dir: string;
  workspace: { id: string; name: string };
  peerId: string;
  /** The `[peer] connect` entry written: the inviter's sync address. */
  connect: string;
  inviter: { peerId: string; name: string };
  files: string[];
  /** The inviter keeps an allow-list: this peer's id must be added to it before they sync. */
  allowListed: boolean;
}

export async function joinShow(opts: JoinOptions): Promise<JoinResult> {
  const root = path.resolve(opts.dir);
  if (fs.existsSync(root) && fs.readdirSync(root).length > 0) {
    throw new InvalidOperation(`${root} already exists and is not empty; join writes a new show directory (choose an empty or new folder, e.g. --dir ~/shows/<name>)`, { dir: root });
  }
  const peer = await joining();
  const key = await peer.newIdentity();
  const offer = await peer.requestJoin({ address: opts.address, code: opts.code, privateKey: key, ...(opts.name ? { name: opts.name } : {}) });
  peer.parseWorkspaceKey(new TextEncoder().encode(offer.workspaceKey), `the workspace key sent by ${opts.address}`);
  const connect = syncAddress(offer, opts.address);

  const tmp = `${root}.joining-${process.pid}`;
  fs.rmSync(tmp, { recursive: true, force: true });
  try {
    for (const f of offer.files) {
      const target = safePath(tmp, f.path, opts.address);
      fs.mkdirSync(path.dirname(target), { recursive: true });
      fs.writeFileSync(target, Buffer.from(f.data, "base64"));
    }
    const configFile = path.join(tmp, "openprod.toml");
    if (!fs.existsSync(configFile)) throw new InvalidOperation(`${opts.address} sent no openprod.toml`, { address: opts.address });
    let text = fs.readFileSync(configFile, "utf8");
    const set: Record<string, string[]> = { connect: [connect] };
    if (opts.listen !== undefined && opts.listen.length > 0) set.listen = peer.listenOverride(opts.listen, peerList(text, "listen"));
    // The inviter's name and key file are its own; this machine keeps its key under .openprod/.
    text = editPeerSection(text, { set, drop: ["name", "key_file"] });
    const name = opts.name;
    if (name) text = text.replace(/^\s*\[peer\].*$/m, (header) => `${header}\nname = ${JSON.stringify(name)}`);
    fs.writeFileSync(configFile, text);
    const stateDir = path.join(tmp, ".openprod");
    fs.mkdirSync(stateDir, { recursive: true, mode: 0o700 });
    peer.writeWorkspaceKey(path.join(stateDir, "workspace.key"), new TextEncoder().encode(offer.workspaceKey));
    peer.saveIdentity(stateDir, key);
    moveInto(tmp, root);
  } catch (e) {
    fs.rmSync(tmp, { recursive: true, force: true });
    throw e;
  }
  return {
    dir: root,
    workspace: offer.workspace,
    peerId: (await import("@libp2p/peer-id")).peerIdFromPrivateKey(key).toString(),
    connect,
    inviter: { peerId: offer.peerId, name: offer.peerName },
    files: offer.files.map((f) => f.path).sort(),
    allowListed: offer.allowList,
  };
}

/** The inviter's sync address on the host the joiner reached it at (the LAN it shares with it), else its first. */
function syncAddress(offer: JoinOffer, joinAddress: string): string {
  const host = /^\/ip[46]\/[^/]+/.exec(joinAddress)?.[0];
  const tcp = offer.addresses.filter((a) => a.includes("/tcp/"));
  const found = tcp.find((a) => host !== undefined && a.startsWith(`${host}/`)) ?? tcp[0] ?? offer.addresses[0];
  if (found === undefined) throw new InvalidOperation(`${joinAddress} is not listening for sync (it sent no address)`, { address: joinAddress });
  return found.includes("/p2p/") ? found : `${found}/p2p/${offer.peerId}`;
}

/** A file path the inviter sent, kept inside the new show and out of its private state. */
function safePath(root: string, rel: string, address: string): string {
  const parts = rel.split("/");
  if (rel === "" || path.isAbsolute(rel) || parts.some((p) => p === ".." || p === "" || p === ".") || parts[0] === ".openprod") {
    throw new InvalidOperation(`${address} sent a file outside the show's configuration: "${rel}"`, { address, path: rel });
  }
  return path.join(root, ...parts);
}

function moveInto(tmp: string, root: string): void {
  if (!fs.existsSync(root)) {
    fs.mkdirSync(path.dirname(root), { recursive: true });
    fs.renameSync(tmp, root);
    return;
  }
  for (const name of fs.readdirSync(tmp)) fs.renameSync(path.join(tmp, name), path.join(root, name));
  fs.rmdirSync(tmp);
}
