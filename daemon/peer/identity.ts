import fs from "node:fs";
import path from "node:path";
import { generateKeyPair, privateKeyFromProtobuf, privateKeyToProtobuf } from "@libp2p/crypto/keys";
import type { PrivateKey } from "@libp2p/interface";
import { peerIdFromPrivateKey } from "@libp2p/peer-id";
import { StorageError } from "../crdt/vocabulary.ts";

/** File under the state dir (.openprod/) holding this peer's Ed25519 identity, protobuf-encoded. */
export const IDENTITY_FILE = "peer-key";

/**
 * The peer's identity must survive restarts: other peers' allow-lists and
 * persisted sync states are keyed by the peer id derived from it.
 */
export async function loadOrCreateIdentity(stateDir: string): Promise<PrivateKey> {
  const file = path.join(stateDir, IDENTITY_FILE);
  if (fs.existsSync(file)) {
    try {
      return privateKeyFromProtobuf(fs.readFileSync(file));
    } catch (err) {
      // Never overwrite a damaged identity: the technician must decide.
      throw new StorageError(`peer identity ${file} is unreadable: ${(err as Error).message}; move it away to create a new identity`, {
        file,
      });
    }
  }
  const key = await generateKeyPair("Ed25519");
  saveIdentity(stateDir, key);
  return key;
}

/** A fresh identity, not yet saved (`openprod join` dials with it, then saves it with the show). */
export function newIdentity(): Promise<PrivateKey> {
  return generateKeyPair("Ed25519");
}

/** Writes the identity file atomically, readable by the owner only. */
export function saveIdentity(stateDir: string, key: PrivateKey): void {
  const file = path.join(stateDir, IDENTITY_FILE);
  fs.mkdirSync(stateDir, { recursive: true });
  const tmp = `${file}.tmp`;
  fs.writeFileSync(tmp, privateKeyToProtobuf(key), { mode: 0o600 });
  fs.renameSync(tmp, file);
}

/** The peer id this state dir stands for (creating the identity on first use); the store stamps it on every bundle. */
export async function loadOrCreatePeerId(stateDir: string): Promise<string> {
  return peerIdFromPrivateKey(await loadOrCreateIdentity(stateDir)).toString();
}
