/**
 * Where `require(name)` looks, as the Scripts Specification's Module System says, given the
 * show-relative path of the file that calls it. Pure string work: no file is touched here.
 *
 *   ./x, ../x          relative to the calling file's folder
 *   <module>/<path>    modules/<module>/exports/<path>.lua
 *   <module>           modules/<module>/exports/init.lua
 *   workspace/<path>   workspace/modules/<path>.lua
 *
 * A relative name cannot leave the area its file lives in: modules/<m>/exports or
 * workspace/modules for shared code, modules/<m> or workspace for a script.
 */

/** A require name resolved to the file it must load. */
export interface ModuleTarget {
  /** Show-relative path of the .lua file. */
  path: string;
  /** The module folder that must be installed (`modules/<m>`), or null for workspace/relative names. */
  module: string | null;
}

/** Why a name can never resolve, whatever files exist. */
export interface ModuleNameProblem {
  problem: string;
}

/** The folder a relative require from `from` must stay inside. */
export function relativeRoot(from: string): string {
  const parts = from.split("/");
  if (parts[0] === "modules" && parts.length >= 3) return parts.slice(0, parts[2] === "exports" ? 3 : 2).join("/");
  if (parts[0] === "workspace" && parts.length >= 2) return parts[1] === "modules" ? "workspace/modules" : "workspace";
  return parts.slice(0, -1).join("/");
}

/** `segments` applied to `base` (a list of folders), or null when `..` climbs above `floor` segments. */
function walk(base: string[], segments: string[], floor: number): string[] | null {
  const out = [...base];
  for (const s of segments) {
    if (s === "" || s === ".") continue;
    if (s === "..") {
      if (out.length <= floor) return null;
      out.pop();
    } else {
      out.push(s);
    }
  }
  return out;
}

const isRelative = (name: string): boolean => name === "." || name === ".." || name.startsWith("./") || name.startsWith("../");

export function resolveModuleName(name: string, from: string): ModuleTarget | ModuleNameProblem {
  if (name === "") return { problem: "the module name is empty" };
  if (name.includes("\\")) return { problem: 'module names use "/", not "\\"' };
  if (name.includes("\0")) return { problem: "the module name contains a NUL byte" };
  if (name.startsWith("/") || /^[A-Za-z]:/.test(name)) return { problem: "module names are not absolute paths" };
  const segments = name.split("/");
  if (isRelative(name)) {
    const root = relativeRoot(from);
    const rootParts = root === "" ? [] : root.split("/");
    const dir = from.split("/").slice(0, -1);
    const out = walk(dir, segments, rootParts.length);
    if (out === null || out.length <= rootParts.length || out.slice(0, rootParts.length).join("/") !== root) {
      return { problem: `from ${from} it would leave ${root || "the show directory"}; relative requires stay inside the folder they start in` };
    }
    return { path: `${out.join("/")}.lua`, module: null };
  }
  const [ns, ...rest] = segments;
  if (ns === "." || ns === "..") return { problem: `it starts with "${ns}" but not "./" or "../"` };
  const rootParts = ns === "workspace" ? ["workspace", "modules"] : ["modules", ns, "exports"];
  const inner = rest.filter((s) => s !== "");
  const out = walk(rootParts, inner.length === 0 ? ["init"] : inner, rootParts.length);
  if (out === null || out.length === rootParts.length) {
    return { problem: `it would leave ${rootParts.join("/")}` };
  }
  return { path: `${out.join("/")}.lua`, module: ns === "workspace" ? null : `modules/${ns}` };
}
