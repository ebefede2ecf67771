/**
 * Query results as a technician reads them: a table with a header (name, id,
 * then the fields), or one block per entity (`--format lines`).
 */
import { fieldOf } from "../offline/index.ts";
import type { EntityView } from "../../protocol/index.ts";
import { showValue } from "./display.ts";

export const QUERY_FORMATS = ["table", "lines", "json"] as const;
export type QueryFormat = (typeof QUERY_FORMATS)[number];

const MAX_CELL = 40;

/** `lighting.cue.label` → `label`. */
const short = (key: string): string => key.slice(key.lastIndexOf(".") + 1);

/** Columns: the ones asked for, else every field the entities hold (short names, first-seen order). */
export function tableColumns(entities: readonly EntityView[], asked: readonly string[] | undefined): string[] {
  if (asked && asked.length) return [...asked];
  const seen = new Map<string, string>();
  for (const e of entities) for (const k of Object.keys(e.fields)) if (!seen.has(short(k))) seen.set(short(k), k);
  return [...seen.keys()];
}

export function entityTable(entities: readonly EntityView[], columns: readonly string[]): string {
  const header = ["name", "id", ...columns];
  const rows = entities.map((e) => [
    e.name,
    e.id,
    ...columns.map((c) => {
      const v = fieldOf(e.fields, c);
      return v === undefined || v === null ? "" : cell(showValue(v));
    }),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: readonly string[]): string => cells.map((c, i) => c.padEnd(widths[i])).join("  ").trimEnd();
  return [line(header.map((h) => h.toUpperCase())), ...rows.map(line)].join("\n");
}

function cell(text: string): string {
  const one = text.replace(/\s+/g, " ");
  return one.length > MAX_CELL ? `${one.slice(0, MAX_CELL - 1)}…` : one;
}
