/**
 * The modules one run loaded and the hash of each file's content: the script hash recorded
 * with a run's operations covers the script and every module it required.
 */
import { createHash } from "node:crypto";

export const sha256 = (text: string): string => createHash("sha256").update(text, "utf8").digest("hex");

export class RequireTracker {
  private readonly files = new Map<string, string>();

  /** Notes that `path` was loaded with this source. */
  loaded(path: string, source: string): void {
    this.files.set(path, sha256(source));
  }

  /** Show-relative path → sha256 (hex) of each module file the run loaded, sorted by path. */
  hashes(): Record<string, string> {
    return Object.fromEntries([...this.files].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  }

  /**
   * One hash for the script and every module it required: sha256 over the script's hash and
   * each `path=hash` line in path order. Equal to `scriptHash` when no module was loaded.
   */
  combinedHash(scriptHash: string): string {
    const entries = Object.entries(this.hashes());
    if (entries.length === 0) return scriptHash;
    return sha256([scriptHash, ...entries.map(([p, h]) => `${p}=${h}`)].join("\n"));
  }
}
