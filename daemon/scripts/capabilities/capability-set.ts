/**
 * The capabilities one script runs with, indexed for the checks the runtime
 * makes on every call (writes, reads, ports, paths). Checks are plain set
 * lookups so they cost well under a microsecond; the messages for a refusal
 * name the capability that would have allowed the call.
 */
import { PermissionDenied } from "../../crdt/vocabulary.ts";
import type { Schema } from "../../crdt/vocabulary.ts";
import type { OperationName } from "../../crdt/vocabulary.ts";
import type { WriteTarget } from "../../crdt/vocabulary.ts";
import type { Capability, DataKind, FsKind, PlainCapability } from "./capability.ts";
import { inRanges } from "./port-ranges.ts";
import type { PortRange } from "./port-ranges.ts";
import { outsideShowDir, tidyPath } from "./show-path-glob.ts";
import { needsCapability, writeRefusal } from "./write-refusal.ts";

/** A call a script wants to make, as far as capabilities are concerned. */
export type CapabilityRequest =
  | { kind: DataKind; field: string }
  | { kind: "net.osc"; port: number }
  | { kind: "net.http.server"; port: number }
  | { kind: FsKind; path: string }
  | { kind: PlainCapability }
  | { kind: "native"; name: string };

/** Field keys a data.* capability covers, split by pattern scope for O(1) checks. */
class DataGrant {
  all = false;
  readonly modules = new Set<string>();
  readonly facets = new Set<string>();
  readonly fields = new Set<string>();
  declared = false;

  add(c: Extract<Capability, { kind: DataKind }>): void {
    this.declared = true;
    const p = c.pattern;
    if (p.scope === "all") this.all = true;
    else if (p.scope === "module") this.modules.add(p.module);
    else if (p.scope === "facet") this.facets.add(`${p.module}.${p.facet.toLowerCase()}`);
    else this.fields.add(p.key);
  }

  /** A facet, table or edge type `name` of `module`: `*`, `<module>.*` or a pattern naming it. */
  coversNamed(module: string, name: string): boolean {
    return this.all || this.modules.has(module) || this.facets.has(`${module}.${name.toLowerCase()}`);
  }

  covers(key: string): boolean {
    if (this.all || this.fields.has(key)) return true;
    const first = key.indexOf(".");
    if (first < 0) return false;
    if (this.modules.size > 0 && this.modules.has(key.slice(0, first))) return true;
    const last = key.lastIndexOf(".");
    return last > first && this.facets.size > 0 && this.facets.has(key.slice(0, last));
  }
}

export class CapabilitySet {
  readonly capabilities: readonly Capability[];
  private readonly plain = new Set<string>();
  private readonly kinds = new Set<string>();
  private readonly write = new DataGrant();
  private readonly read = new DataGrant();
  private readonly osc: PortRange[] = [];
  private readonly httpPorts = new Set<number>();
  private readonly globs: Record<FsKind, RegExp[]> = { "fs.read": [], "fs.write": [], "fs.watch": [] };
  private readonly globTexts: Record<FsKind, string[]> = { "fs.read": [], "fs.write": [], "fs.watch": [] };

  constructor(capabilities: readonly Capability[]) {
    this.capabilities = capabilities;
    for (const c of capabilities) {
      this.kinds.add(c.kind);
      switch (c.kind) {
        case "net.osc":
          this.osc.push(...c.ports);
          break;
        case "net.http.server":
          this.httpPorts.add(c.port);
          break;
        case "fs.read":
        case "fs.write":
        case "fs.watch":
          this.globs[c.kind].push(c.matcher);
          this.globTexts[c.kind].push(c.glob);
          break;
        case "data.write":
          this.write.add(c);
          break;
        case "data.read":
          this.read.add(c);
          break;
        case "native":
          this.plain.add(`native.${c.name}`);
          break;
        default:
          this.plain.add(c.kind);
      }
    }
  }

  static readonly none = new CapabilitySet([]);

  /**
   * `has("ui.notify")`, `has("native.lightwright")`; for capabilities with an
   * argument, `has("fs.read")` / `has("net.osc")` say whether any is declared
   * (what decides which Lua modules the sandbox exposes at all).
   */
  has(name: string): boolean {
    return this.plain.has(name) || this.kinds.has(name);
  }

  /** May the script write this field (full key `module.facet.field`)? The field case of canWriteTarget. */
  canWrite(fieldKey: string): boolean {
    return this.write.covers(fieldKey);
  }

  /**
   * May the script make this write (op-writes.ts says what each operation writes)? A facet is
   * covered by a pattern for it, its module or everything, or by grants for each of its fields;
   * a table by what covers every facet it brings, or like an edge type by `*`, its module's
   * `<module>.*`, or `<module>.<name>`; an entity
   * with neither facets nor tables only by `*`.
   */
  canWriteTarget(target: WriteTarget, schema: Schema): boolean {
    return grantCovers(this.write, target, schema);
  }

  /**
   * May the script see this part of the workspace (a field, a facet's or table's membership, an
   * edge type's edges and properties)? Open while no `data.read` is declared; then what the
   * read grants cover by the same rule as writes, plus whatever it may write.
   */
  canReadTarget(target: WriteTarget, schema: Schema): boolean {
    if (!this.read.declared) return true;
    return grantCovers(this.read, target, schema) || grantCovers(this.write, target, schema);
  }

  /**
   * The refusal of a write, naming the script, the operation, the entity and the capability
   * that would allow it.
   */
  deniedWrite(op: OperationName, target: WriteTarget, schema: Schema, script?: string): PermissionDenied {
    return writeRefusal(op, target, schema, script);
  }

  /**
   * May the script read this field? Reads are open unless the script declares
   * some `data.read`; then only those, plus what it may write (a script can
   * always read back what it wrote).
   */
  canRead(fieldKey: string): boolean {
    if (!this.read.declared) return true;
    return this.read.covers(fieldKey) || this.write.covers(fieldKey);
  }

  oscPort(port: number): boolean {
    return inRanges(this.osc, port);
  }

  httpServerPort(port: number): boolean {
    return this.httpPorts.has(port);
  }

  /**
   * May the script read / write / watch this path (relative to the show
   * directory)? Absolute paths and `..` are refused whatever the globs say.
   * Watching a directory is allowed when a watch glob lies inside it.
   */
  fsAllowed(kind: "read" | "write" | "watch", relPath: string): boolean {
    if (outsideShowDir(relPath) !== null) return false;
    const key: FsKind = `fs.${kind}`;
    const p = tidyPath(relPath);
    if (p === "") return kind === "watch" && this.globTexts[key].length > 0;
    for (const m of this.globs[key]) if (m.test(p)) return true;
    if (kind === "watch") for (const g of this.globTexts[key]) if (g.startsWith(`${p}/`)) return true;
    return false;
  }

  /** Whether the request is allowed; one entry point for callers holding a CapabilityRequest. */
  allows(req: CapabilityRequest): boolean {
    switch (req.kind) {
      case "data.write":
        return this.canWrite(req.field);
      case "data.read":
        return this.canRead(req.field);
      case "net.osc":
        return this.oscPort(req.port);
      case "net.http.server":
        return this.httpServerPort(req.port);
      case "fs.read":
      case "fs.write":
      case "fs.watch":
        return this.fsAllowed(fsVerb(req.kind), req.path);
      case "native":
        return this.plain.has(`native.${req.name}`);
      default:
        return this.plain.has(req.kind);
    }
  }

  /**
   * Exactly the field keys of `schema` this script may write: the trigger
   * cycle check builds its graph from this, and canWrite enforces the same
   * predicate at run time, so the graph is sound.
   */
  writeSet(schema: Schema): Set<string> {
    // The gate's own rule (canWriteTarget), asked field by field. Every other kind of write an
    // operation declares (a facet, an entity) is only allowed when each of its fields is, so a
    // script that may detach, merge or resolve is seen here to write those fields.
    const out = new Set<string>();
    for (const key of schema.fields.keys()) if (this.canWriteTarget({ kind: "field", key, entity: "" }, schema)) out.add(key);
    return out;
  }

  /**
   * Why a request is refused, naming the capability that would allow it:
   * `writing lighting.cue.order_index needs capability "data.write:lighting.cue.order_index" (or "data.write:lighting.*")`.
   */
  deniedMessage(req: CapabilityRequest): string {
    const needs = (what: string, exact: string, broader?: string): string => `${what} ${needsCapability(exact, broader)}`;
    switch (req.kind) {
      case "data.write":
      case "data.read": {
        const verb = req.kind === "data.write" ? "writing" : "reading";
        const module = req.field.split(".")[0];
        return needs(`${verb} ${req.field}`, `${req.kind}:${req.field}`, `${req.kind}:${module}.*`);
      }
      case "net.osc":
        return needs(`using OSC port ${req.port}`, `net.osc:${req.port}`);
      case "net.http.server":
        return needs(`serving HTTP on port ${req.port}`, `net.http.server:${req.port}`);
      case "fs.read":
      case "fs.write":
      case "fs.watch": {
        const bad = outsideShowDir(req.path);
        const verb = { "fs.read": "reading", "fs.write": "writing", "fs.watch": "watching" }[req.kind];
        if (bad !== null) return `${verb} "${req.path}" is refused: ${bad}`;
        const p = tidyPath(req.path);
        const slash = p.lastIndexOf("/");
        const dir = slash < 0 ? "*" : `${p.slice(0, slash)}/*`;
        return needs(`${verb} ${p}`, `${req.kind}:${p}`, `${req.kind}:${dir}`);
      }
      case "native":
        return needs(`calling ${req.name}`, `native.${req.name}`);
      default:
        return needs(PLAIN_WHAT[req.kind], req.kind);
    }
  }

  /** The PermissionDenied a runtime throws for a refused request. */
  denied(req: CapabilityRequest, script?: string): PermissionDenied {
    const who = script === undefined ? "" : `script "${script}": `;
    return new PermissionDenied(`${who}${this.deniedMessage(req)}`, { ...req, script });
  }

  /** The capability strings, as declared. */
  toStrings(): string[] {
    return this.capabilities.map((c) => c.text);
  }
}

function grantCovers(grant: DataGrant, target: WriteTarget, schema: Schema): boolean {
  const facet = (facetKey: string): boolean => {
    const f = schema.facets.get(facetKey);
    if (!f) return grant.all;
    return grant.coversNamed(f.module, f.name) || (f.fields.length > 0 && f.fields.every((d) => grant.covers(d.key)));
  };
  switch (target.kind) {
    case "field":
      return grant.covers(target.key);
    case "facet":
      return facet(target.facet);
    case "table": {
      // Joining a table attaches its facets: whoever may write all of them may join or leave it.
      const t = schema.tables.get(target.table);
      if (!t) return grant.all;
      return grant.coversNamed(t.module, t.name) || (t.facets.length > 0 && t.facets.every(facet));
    }
    case "edge": {
      const e = schema.edgeTypes.get(target.type);
      return e ? grant.coversNamed(e.module, e.name) : grant.all;
    }
    case "entity":
      return grant.all;
  }
}

const PLAIN_WHAT: Record<PlainCapability, string> = {
  "net.http.client": "making HTTP requests",
  "net.midi": "using MIDI",
  "ui.navigate": "navigating views",
  "ui.notify": "showing notifications",
  "ui.dialog": "showing dialogs",
};

function fsVerb(kind: FsKind): "read" | "write" | "watch" {
  return kind === "fs.read" ? "read" : kind === "fs.write" ? "write" : "watch";
}
