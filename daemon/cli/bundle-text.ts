/** Entities, bundles and their changes as a technician reads them (text output of get, query, history, conflicts, writes). */
import type { BundleResult, EntityView, FieldChange } from "../../protocol/index.ts";
import { hlcTime, showValue } from "./display.ts";
import type { EntityNames } from "./display.ts";

export function entityText(e: EntityView): string {
  const lines = [`${e.name}  ${e.id}${e.deleted ? " (deleted)" : ""}`, `  tables: ${Object.keys(e.tables).join(", ") || "-"}`];
  for (const [k, v] of Object.entries(e.fields)) lines.push(`  ${k} = ${showValue(v)}`);
  if (e.undeclaredTables?.length) {
    lines.push(`  warning: table ${e.undeclaredTables.join(", ")} is not declared by this peer's modules (a peer with other modules made it); its fields are not shown here. Install the same modules as the other peers (openprod peers shows module differences)`);
  }
  return lines.join("\n");
}

export function bundleText(r: BundleResult): string {
  return r.hash ? `bundle ${r.hash.slice(0, 12)} at ${hlcTime(r.hlc)}` : "nothing changed (the value was already set)";
}

export const actorText = (a: { kind: string; name: string }): string => (a.kind === "user" ? a.name : `${a.kind}:${a.name}`);

/** One line of what a bundle changed: `Q12 Blackout: label Blackout → House to half`. */
export function changeText(c: FieldChange, names: EntityNames): string {
  const who = names.label(c.entity);
  switch (c.kind) {
    case "field":
      return `${who}: ${shortField(c.field)} ${showValue(c.oldValue ?? undefined)} → ${showValue(c.newValue ?? undefined)}`;
    case "table":
      return `${who}: ${c.newValue ? "added to" : "removed from"} ${c.field}`;
    case "entity":
      return `${who}: ${c.field}`;
    case "edge": {
      const v = (c.newValue ?? c.oldValue) as { type?: string; source?: string; target?: string } | null;
      return `edge ${v?.type ?? ""} ${names.label(v?.source ?? "")} → ${names.label(v?.target ?? "")}: ${c.field}`;
    }
    default:
      return `${who}: ${c.kind} ${c.field}`;
  }
}

/** A bundle's changes, an entity it creates on one line with its tables and values. */
export function bundleChangeLines(changes: readonly FieldChange[], names: EntityNames): string[] {
  const created = new Set(changes.filter((c) => c.kind === "entity" && c.field === "created").map((c) => c.entity));
  const lines: string[] = [];
  for (const c of changes) {
    if (!created.has(c.entity) || c.kind === "edge") {
      lines.push(`    ${changeText(c, names)}`);
      continue;
    }
    if (c.kind !== "entity" || c.field !== "created") continue;
    const mine = changes.filter((x) => x.entity === c.entity);
    const tables = mine.filter((x) => x.kind === "table" && x.newValue).map((x) => x.field);
    const values = mine.filter((x) => x.kind === "field").map((x) => `${shortField(x.field)}=${showValue(x.newValue ?? undefined)}`);
    lines.push(`    ${names.label(c.entity)}: created${tables.length ? ` in ${tables.join(", ")}` : ""}${values.length ? `: ${values.join(", ")}` : ""}`);
  }
  return lines;
}

/** `lighting.cue.label` → `label`: the facet is clear from the entity's name. */
export const shortField = (key: string): string => key.slice(key.lastIndexOf(".") + 1);

/** The ids a list of changes mentions (entities, and both ends of edges). */
export function changeIds(changes: readonly FieldChange[]): string[] {
  return changes.flatMap((c) => {
    if (c.kind !== "edge") return [c.entity];
    const v = (c.newValue ?? c.oldValue) as { source?: string; target?: string } | null;
    return [v?.source ?? "", v?.target ?? ""];
  });
}
