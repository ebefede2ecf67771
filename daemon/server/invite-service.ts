/**
 * `invite.create` on the owner-only socket: opens the join listener
 * (daemon/peer/join-listener.ts) with a fresh one-time code, and builds what
 * a joining machine receives: the workspace key, this peer's sync addresses
 * and the show's configuration files as they are now. Never the daemon's
 * private state (.openprod/) or the store: the store comes by sync.
 */
import fs from "node:fs";
import path from "node:path";
import type { ShowConfig } from "../config/index.ts";
import { InvalidOperation } from "../crdt/vocabulary.ts";
import { InviteBook, createJoinListener, loadOrCreateIdentity } from "../peer/index.ts";
import type { JoinOffer, PeerNode, ShowFile } from "../peer/index.ts";
import type { Logger } from "./logger.ts";
import type { MethodRegistry } from "./method-registry.ts";
import { obj } from "./params.ts";
import type { PeerSettings } from "./peer-settings.ts";

export interface InviteDeps {
  show: ShowConfig;
  settings: PeerSettings;
  peer: PeerNode | null;
  log: Logger;
  invites?: InviteBook;
}

/** What of a show directory a new machine gets: the config, the modules and the workspace's scripts. */
export const SHOW_CONFIG_PARTS = ["openprod.toml", "modules", "workspace"];

export function registerInviteMethods(methods: MethodRegistry, deps: InviteDeps): { stop(): Promise<void> } {
  const invites = deps.invites ?? new InviteBook();
  const { show, settings, peer, log } = deps;
  let listener: ReturnType<typeof createJoinListener> | null = null;
  const timers = new Set<NodeJS.Timeout>();

  methods.register("invite.create", obj({}), async () => {
    if (peer === null) throw new InvalidOperation(`this daemon runs without networking (--no-network): a new machine cannot join it; restart it without --no-network`, {});
    listener ??= createJoinListener({
      privateKey: await loadOrCreateIdentity(show.dir.stateDir),
      hostsOf: () => settings.listen,
      invites,
      offer: async () => showOffer(show, settings, peer),
      log: (level, msg, fields) => log.log(level, msg, fields),
    });
    const invite = invites.create();
    const addresses = preferLan(await listener.open());
    const l = listener;
    const timer = setTimeout(() => {
      timers.delete(timer);
      void l.closeIfIdle();
    }, invite.expiresAt - Date.now() + 50);
    timer.unref();
    timers.add(timer);
    log.info(`invite ${invite.code} opened for one new machine, valid until ${new Date(invite.expiresAt).toLocaleTimeString()}; join address ${addresses[0]}`, { addresses });
    return {
      ...invite,
      addresses,
      command: `openprod join ${addresses[0]} --code ${invite.code}`,
      peerId: peer.peerId,
      workspace: { id: show.config.workspace.id, name: show.config.workspace.name },
    };
  });

  return {
    async stop() {
      for (const t of timers) clearTimeout(t);
      await listener?.stop();
    },
  };
}

/** Venue addresses first: the new machine is usually another computer. */
function preferLan(addresses: string[]): string[] {
  const loopback = (a: string): boolean => a.startsWith("/ip4/127.") || a.startsWith("/ip6/::1/");
  return [...addresses.filter((a) => !loopback(a)), ...addresses.filter(loopback)];
}

async function showOffer(show: ShowConfig, settings: PeerSettings, peer: PeerNode): Promise<JoinOffer> {
  return {
    workspace: { id: show.config.workspace.id, name: show.config.workspace.name },
    workspaceKey: fs.readFileSync(settings.keyFile, "utf8"),
    addresses: peer.addresses(),
    peerId: peer.peerId,
    peerName: settings.name,
    allowList: settings.allow.length > 0,
    files: showFiles(show.dir.root),
  };
}

function showFiles(root: string): ShowFile[] {
  const files: ShowFile[] = [];
  const visit = (rel: string): void => {
    const abs = path.join(root, rel);
    const st = fs.lstatSync(abs, { throwIfNoEntry: false });
    if (st === undefined) return;
    if (st.isDirectory()) {
      for (const name of fs.readdirSync(abs).sort()) visit(path.join(rel, name));
    } else if (st.isFile()) {
      files.push({ path: rel.split(path.sep).join("/"), data: fs.readFileSync(abs).toString("base64") });
    }
  };
  for (const part of SHOW_CONFIG_PARTS) visit(part);
  return files;
}
