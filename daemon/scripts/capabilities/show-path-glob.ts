/**
 * Globs of `fs.read:` / `fs.write:` / `fs.watch:`, rooted at the show
 * directory. `*` and `?` stay within one path segment, `**` crosses them.
 * A glob or a path that could leave the show directory (absolute, `..`,
 * backslashes) is refused outright rather than normalised, so a script can
 * never talk its way out with `imports/../../etc/passwd`.
 */

/** Why `p` (a glob or a path) cannot name something inside the show directory, or null when it can. */
export function outsideShowDir(p: string): string | null {
  if (p === "") return "it is empty";
  if (p.includes("\0")) return "it contains a NUL byte";
  if (p.includes("\\")) return 'it contains "\\"; write paths with "/"';
  if (p.startsWith("/") || /^[A-Za-z]:/.test(p)) return "it is absolute; paths are relative to the show directory";
  if (p.split("/").includes("..")) return 'it contains ".."; paths cannot leave the show directory';
  return null;
}

/** A matcher for a glob already checked with outsideShowDir. */
export function compileGlob(glob: string): RegExp {
  let re = "^";
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i];
    if (c === "*") {
      if (glob[i + 1] === "*") {
        const slash = glob[i + 2] === "/";
        re += slash ? "(?:.*/)?" : ".*";
        i += slash ? 2 : 1;
      } else {
        re += "[^/]*";
      }
    } else if (c === "?") {
      re += "[^/]";
    } else {
      re += c.replace(/[.+^${}()|[\]\\]/g, "\\$&");
    }
  }
  return new RegExp(re + "$");
}

/** `./a//b/` → `a/b`; the path must already have passed outsideShowDir. */
export function tidyPath(p: string): string {
  return p
    .split("/")
    .filter((s) => s !== "" && s !== ".")
    .join("/");
}
