import path from "node:path";

/** Where a show's daemon listens: `<show>/.openprod/daemon.sock`. */
export function socketPath(showDir: string): string {
  return path.join(path.resolve(showDir), ".openprod", "daemon.sock");
}

/** Unix socket paths are limited to about 107 bytes (sun_path). */
export const MAX_SOCKET_PATH_BYTES = 103;
