/**
 * The workspace schema: facets with typed fields, tables with the facets their
 * members carry, and edge types. It is built from module manifests
 * (`modules/<name>/module.toml`, parsed in daemon/config) and is the single
 * place where field names are resolved.
 *
 * Naming: a facet is `module.Facet` (e.g. `lighting.Fixture`); a field's full
 * key is `module.facet.field` with the facet name lower-cased
 * (`lighting.fixture.channel`). Users may also write `module.field` or the
 * short `field` when that is unambiguous.
 */
import { FieldNotFound, InvalidOperation } from "./errors.ts";

export const FIELD_TYPES = ["string", "int", "float", "bool", "ref", "json", "text", "list"] as const;
export type FieldType = (typeof FIELD_TYPES)[number];

export interface FieldDef {
  readonly module: string;
  /** Facet name as declared (`Fixture`). */
  readonly facet: string;
  readonly name: string;
  readonly type: FieldType;
  /** `module.facet.field`, facet lower-cased: the storage key. */
  readonly key: string;
  /** `module.Facet` of the owning facet. */
  readonly facetKey: string;
}

export interface FacetDef {
  readonly module: string;
  readonly name: string;
  /** `module.Facet` */
  readonly key: string;
  readonly fields: readonly FieldDef[];
}

export interface TableDef {
  readonly module: string;
  readonly name: string;
  /** Facet keys (`module.Facet`) that `add_to_table` attaches. */
  readonly facets: readonly string[];
  /** How members are named on screen, e.g. `"Q{number} {label}"` (see entity-name.ts); none: the fallback. */
  readonly display?: string;
}

export interface EdgeTypeDef {
  readonly module: string;
  readonly name: string;
  /** Ordered edges keep a position among siblings of (target, type). */
  readonly ordered: boolean;
}

export interface SchemaSource {
  facets: FacetDef[];
  tables: TableDef[];
  edgeTypes: EdgeTypeDef[];
}

export function fieldKey(module: string, facet: string, field: string): string {
  return `${module}.${facet.toLowerCase()}.${field}`;
}

export function facetKey(module: string, facet: string): string {
  return `${module}.${facet}`;
}

export class Schema {
  readonly facets = new Map<string, FacetDef>();
  readonly tables = new Map<string, TableDef>();
  readonly edgeTypes = new Map<string, EdgeTypeDef>();
  /** Full key → def. */
  readonly fields = new Map<string, FieldDef>();
  private readonly byShort = new Map<string, FieldDef[]>();
  private readonly byModuleField = new Map<string, FieldDef[]>();
  private readonly facetsLower = new Map<string, FacetDef>();

  constructor(src: SchemaSource) {
    for (const f of src.facets) {
      if (this.facets.has(f.key)) throw new InvalidOperation(`facet ${f.key} is declared twice`, { facet: f.key });
      this.facets.set(f.key, f);
      this.facetsLower.set(f.key.toLowerCase(), f);
      for (const fd of f.fields) {
        this.fields.set(fd.key, fd);
        push(this.byShort, fd.name, fd);
        push(this.byModuleField, `${fd.module}.${fd.name}`, fd);
      }
    }
    for (const t of src.tables) {
      for (const fk of t.facets) {
        if (!this.facets.has(fk)) {
          throw new InvalidOperation(`table ${t.name} names unknown facet ${fk}`, { table: t.name, facet: fk });
        }
      }
      this.tables.set(t.name, t);
    }
    for (const e of src.edgeTypes) this.edgeTypes.set(e.name, e);
  }

  static empty(): Schema {
    return new Schema({ facets: [], tables: [], edgeTypes: [] });
  }

  facet(key: string): FacetDef {
    const f = this.facets.get(key) ?? this.facetsLower.get(key.toLowerCase());
    if (!f) {
      throw new InvalidOperation(`unknown facet "${key}"${suggest(key, [...this.facets.keys()])}`, { facet: key });
    }
    return f;
  }

  table(name: string): TableDef {
    const t = this.tables.get(name);
    if (!t) {
      throw new InvalidOperation(`unknown table "${name}"${suggest(name, [...this.tables.keys()])}`, { table: name });
    }
    return t;
  }

  edgeType(name: string): EdgeTypeDef {
    const e = this.edgeTypes.get(name);
    if (!e) {
      throw new InvalidOperation(`unknown edge type "${name}"${suggest(name, [...this.edgeTypes.keys()])}`, {
        edgeType: name,
      });
    }
    return e;
  }

  /** All field defs matching a name in any addressing form, before narrowing to an entity's facets. */
  candidates(name: string): FieldDef[] {
    const full = this.fields.get(name) ?? this.fields.get(lowerFacetPart(name));
    if (full) return [full];
    const parts = name.split(".");
    if (parts.length === 2) return this.byModuleField.get(name) ?? [];
    if (parts.length === 1) return this.byShort.get(name) ?? [];
    return [];
  }

  /**
   * Resolve a field name. When `facets` is given (the facets an entity carries,
   * or a table's facets), only fields of those facets count; a name matching
   * several is ambiguous and the error lists the candidates.
   */
  resolveField(name: string, facets?: Iterable<string>, where?: string): FieldDef {
    let found = this.candidates(name);
    if (facets) {
      const allowed = new Set(facets);
      const narrowed = found.filter((f) => allowed.has(f.facetKey));
      if (narrowed.length === 0 && found.length > 0) {
        throw new FieldNotFound(
          `field "${name}" is not on ${where ?? "this entity"} (it belongs to ${found.map((f) => f.facetKey).join(", ")})`,
          { field: name, facets: [...allowed] },
        );
      }
      found = narrowed;
    }
    if (found.length === 1) return found[0];
    if (found.length === 0) {
      throw new FieldNotFound(
        `unknown field "${name}"${where ? ` on ${where}` : ""}${suggest(name, this.allNames())}`,
        { field: name },
      );
    }
    throw new InvalidOperation(
      `field name "${name}" is ambiguous: it could be ${found.map((f) => f.key).join(" or ")}; write the full name`,
      { field: name, candidates: found.map((f) => f.key) },
    );
  }

  /** Field defs of a set of facets. */
  fieldsOf(facets: Iterable<string>): FieldDef[] {
    const out: FieldDef[] = [];
    for (const fk of facets) {
      const f = this.facets.get(fk);
      if (f) out.push(...f.fields);
    }
    return out;
  }

  allNames(): string[] {
    return [...this.byShort.keys(), ...this.fields.keys()];
  }
}

function lowerFacetPart(name: string): string {
  const parts = name.split(".");
  if (parts.length !== 3) return name;
  return `${parts[0]}.${parts[1].toLowerCase()}.${parts[2]}`;
}

function push<K, V>(m: Map<K, V[]>, k: K, v: V): void {
  const a = m.get(k);
  if (a) a.push(v);
  else m.set(k, [v]);
}

/** ` (did you mean "x"?)` when a close name exists, else "". */
export function suggest(name: string, known: Iterable<string>): string {
  let best: string | null = null;
  let bestD = Infinity;
  for (const k of known) {
    const d = editDistance(name.toLowerCase(), k.toLowerCase());
    if (d < bestD) {
      bestD = d;
      best = k;
    }
  }
  if (best !== null && bestD <= Math.max(2, Math.floor(name.length / 3))) return ` (did you mean "${best}"?)`;
  return "";
}

export function editDistance(a: string, b: string): number {
  if (a === b) return 0;
  const prev = new Array<number>(b.length + 1);
  for (let j = 0; j <= b.length; j++) prev[j] = j;
  for (let i = 1; i <= a.length; i++) {
    let diag = prev[0];
    prev[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = prev[j];
      prev[j] = Math.min(prev[j] + 1, prev[j - 1] + 1, diag + (a[i - 1] === b[j - 1] ? 0 : 1));
      diag = tmp;
    }
  }
  return prev[b.length];
}
