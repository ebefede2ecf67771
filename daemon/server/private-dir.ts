/**
 * The daemon's state directory (`.openprod/`) is the fence around the socket,
 * the store and the peer key: mode 0700 and owned by the user the daemon runs
 * as. Connecting to a Unix socket needs search permission on every directory
 * above it, so a socket bound inside this directory is unreachable to others
 * from the moment it exists, whatever the umask and whatever mode the socket
 * file itself gets before its chmod.
 */
import fs from "node:fs";
import { PermissionDenied } from "../crdt/vocabulary.ts";

const PRIVATE = 0o700;

/**
 * Creates `dir` (mode 0700) or tightens an existing one to 0700; refuses one
 * owned by another user (its owner could open it again at any time) and one
 * whose mode cannot be changed.
 */
export function makePrivateDir(dir: string): void {
  fs.mkdirSync(dir, { recursive: true, mode: PRIVATE });
  const st = fs.lstatSync(dir);
  if (!st.isDirectory()) {
    throw new PermissionDenied(`${dir} is not a directory (a symbolic link or a file?); the daemon keeps its socket, store and keys in a private directory there. Move it aside and start again`, { dir });
  }
  const uid = process.getuid?.();
  if (uid !== undefined && st.uid !== uid) {
    throw new PermissionDenied(
      `${dir} belongs to user id ${st.uid}, not to the user running the daemon (${uid}); its owner could reach the socket, the store and the peer key. Run the daemon as that user, or have it give the directory over (chown ${uid} ${dir})`,
      { dir, owner: st.uid, uid },
    );
  }
  if ((st.mode & 0o777) === PRIVATE) return;
  try {
    fs.chmodSync(dir, PRIVATE);
  } catch (e) {
    throw new PermissionDenied(`cannot make ${dir} private (mode 0700): ${(e as Error).message}; the daemon does not start with a socket others could reach`, { dir });
  }
  const mode = fs.statSync(dir).mode & 0o777;
  if (mode !== PRIVATE) {
    throw new PermissionDenied(`${dir} keeps mode 0${mode.toString(8)} after chmod 0700 (a file system without Unix modes?); the daemon does not start with a socket others could reach`, { dir, mode });
  }
}
