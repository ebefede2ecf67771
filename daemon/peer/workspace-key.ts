import fs from "node:fs";
import { ConfigError } from "../crdt/vocabulary.ts";

/**
 * The workspace key is a libp2p private-network pre-shared key (the "swarm
 * key" format go-ipfs and js-libp2p agree on). Every connection is XOR-boxed
 * with it before Noise runs, so a machine without the key cannot even start
 * a handshake with a show peer.
 */

const HEADER = "/key/swarm/psk/1.0.0/\n/base16/\n";
const KEY_HEX_LENGTH = 64;

/** A fresh random workspace key, 95 bytes in swarm-key format. */
export function generateWorkspaceKey(random: (bytes: Uint8Array) => Uint8Array = (b) => crypto.getRandomValues(b)): Uint8Array {
  const secret = random(new Uint8Array(KEY_HEX_LENGTH / 2));
  const hex = Buffer.from(secret).toString("hex");
  return new TextEncoder().encode(HEADER + hex);
}

/** Throws ConfigError (naming `source`) unless `key` is a swarm key with a 32-byte base16 secret. */
export function parseWorkspaceKey(key: Uint8Array, source = "workspace key"): Uint8Array {
  const text = new TextDecoder().decode(key).replace(/\r\n/g, "\n").trim();
  const lines = text.split("\n");
  if (lines.length !== 3 || lines[0] !== "/key/swarm/psk/1.0.0/" || lines[1] !== "/base16/") {
    throw new ConfigError(
      `${source}: not a workspace key; expected 3 lines "/key/swarm/psk/1.0.0/", "/base16/", then 64 hex digits`,
      { file: source },
    );
  }
  const hex = lines[2];
  if (hex.length !== KEY_HEX_LENGTH || !/^[0-9a-fA-F]+$/.test(hex)) {
    throw new ConfigError(`${source}: line 3 must be 64 hex digits, got ${hex.length} characters`, { file: source, line: 3 });
  }
  return new TextEncoder().encode(HEADER + hex.toLowerCase());
}

/** Reads and validates a key file; ConfigError names the path. */
export function readWorkspaceKey(file: string): Uint8Array {
  let raw: Uint8Array;
  try {
    raw = fs.readFileSync(file);
  } catch (err) {
    throw new ConfigError(`cannot read workspace key ${file}: ${(err as Error).message}`, { file });
  }
  return parseWorkspaceKey(raw, file);
}

/** Writes the key readable by the owner only (it is the show's network secret). */
export function writeWorkspaceKey(file: string, key: Uint8Array): void {
  const valid = parseWorkspaceKey(key, file);
  fs.writeFileSync(file, valid, { mode: 0o600 });
  fs.chmodSync(file, 0o600);
}
