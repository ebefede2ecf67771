/**
 * The console's secret: 32 random bytes (hex) in `.openprod/console.token`,
 * owner-only. Made once and kept, so a browser's cookie outlives a daemon
 * restart; delete the file to revoke every browser at once.
 */
import crypto from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { StorageError } from "../../crdt/index.ts";

export const TOKEN_FILE = "console.token";

export function loadOrCreateConsoleToken(stateDir: string): string {
  const file = path.join(stateDir, TOKEN_FILE);
  if (fs.existsSync(file)) {
    const token = fs.readFileSync(file, "utf8").trim();
    if (!/^[0-9a-f]{64}$/.test(token)) {
      throw new StorageError(`${file} does not hold a console token (64 hex digits); delete it and restart the daemon to make a new one`, { file });
    }
    // Tightened on every start: a copied show directory may have lost the mode.
    fs.chmodSync(file, 0o600);
    return token;
  }
  const token = crypto.randomBytes(32).toString("hex");
  fs.writeFileSync(file, token + "\n", { mode: 0o600 });
  return token;
}

/** Constant-time comparison, so the token cannot be guessed byte by byte from response times. */
export function sameToken(given: string | undefined, token: string): boolean {
  if (given === undefined) return false;
  const a = Buffer.from(given);
  const b = Buffer.from(token);
  return a.length === b.length && crypto.timingSafeEqual(a, b);
}
