/**
 * What a `data.read:` / `data.write:` capability covers: everything (`*`),
 * a module (`lighting.*`), a facet (`lighting.Cue`) or one field
 * (`lighting.cue.number`). Field keys are `module.facet.field` with the facet
 * lower-cased, so facet patterns are kept lower-cased too.
 */

export type FacetPattern =
  | { readonly scope: "all" }
  | { readonly scope: "module"; readonly module: string }
  | { readonly scope: "facet"; readonly module: string; readonly facet: string; readonly prefix: string }
  | { readonly scope: "field"; readonly key: string };

const IDENT = /^[A-Za-z][A-Za-z0-9_]*$/;

/** The pattern, or the reason the text is not one. */
export function parseFacetPattern(text: string): FacetPattern | string {
  if (text === "*") return { scope: "all" };
  const parts = text.split(".");
  const expected = `expected "*", "<module>.*", "<module>.<Facet>" or "<module>.<facet>.<field>"`;
  if (parts.length === 3 && parts[2] === "*") parts.pop();
  if (parts.length < 2 || parts.length > 3) return expected;
  if (parts.length === 2 && parts[1] === "*") {
    return IDENT.test(parts[0]) ? { scope: "module", module: parts[0] } : expected;
  }
  if (!parts.every((p) => IDENT.test(p))) return expected;
  if (parts.length === 2) {
    const facet = parts[1].toLowerCase();
    return { scope: "facet", module: parts[0], facet: parts[1], prefix: `${parts[0]}.${facet}.` };
  }
  return { scope: "field", key: `${parts[0]}.${parts[1].toLowerCase()}.${parts[2]}` };
}

/** Whether the pattern covers a full field key (`module.facet.field`). */
export function patternCovers(p: FacetPattern, fieldKey: string): boolean {
  switch (p.scope) {
    case "all":
      return true;
    case "module":
      return fieldKey.length > p.module.length && fieldKey.startsWith(p.module) && fieldKey[p.module.length] === ".";
    case "facet":
      return fieldKey.startsWith(p.prefix) && fieldKey.indexOf(".", p.prefix.length) < 0;
    case "field":
      return fieldKey === p.key;
  }
}
