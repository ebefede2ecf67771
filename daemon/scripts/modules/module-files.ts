/**
 * The seam between require() and the disk: read a module's source, ask whether a module is
 * installed. The show-directory implementation refuses files that a symbolic link carries
 * outside the show directory.
 */
import fs from "node:fs";
import path from "node:path";

export interface ModuleFiles {
  /** Source of the show-relative file, or null when it is not a readable regular file inside the show. */
  read(relPath: string): string | null;
  /** Whether the show-relative folder exists (an installed module: `modules/<name>`). */
  isFolder(relPath: string): boolean;
}

export function showDirModuleFiles(showDir: string): ModuleFiles {
  let realShow: string | null = null;
  const inside = (abs: string): boolean => {
    realShow ??= fs.realpathSync(showDir);
    const real = fs.realpathSync(abs);
    return real === realShow || real.startsWith(realShow + path.sep);
  };
  return {
    read(relPath) {
      const abs = path.join(showDir, relPath);
      try {
        if (!fs.statSync(abs).isFile() || !inside(abs)) return null;
        return fs.readFileSync(abs, "utf8");
      } catch {
        return null;
      }
    },
    isFolder(relPath) {
      const abs = path.join(showDir, relPath);
      try {
        return fs.statSync(abs).isDirectory() && inside(abs);
      } catch {
        return false;
      }
    },
  };
}
