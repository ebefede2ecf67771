/**
 * Where the console is: a hash route (`#/table/lighting_cues`, `#/entity/<id>`),
 * so the back button and bookmarks work and a script's `ui.navigate` can move
 * every open console by changing it.
 */
import { signal } from "@preact/signals";

export const VIEWS = ["scripts", "sessions", "conflicts", "tables", "cues", "triggers", "background", "peers", "log"] as const;
export type ViewName = (typeof VIEWS)[number];

export interface Route {
  view: ViewName | "table" | "entity" | "session" | "cuelist";
  /** Table name, entity id, session id or cue list target. */
  arg: string | null;
  /** Extra query condition for a table (from the query bar or `ui.navigate.filter`). */
  where: string;
  sort: { field: string; direction: "asc" | "desc" } | null;
}

export function parseRoute(hash: string): Route {
  const [path, search = ""] = hash.replace(/^#\/?/, "").split("?");
  const [head, ...rest] = path.split("/");
  const params = new URLSearchParams(search);
  const sortField = params.get("sort");
  const sort = sortField ? { field: sortField, direction: params.get("dir") === "desc" ? ("desc" as const) : ("asc" as const) } : null;
  const arg = rest.length ? decodeURIComponent(rest.join("/")) : null;
  const where = params.get("where") ?? "";
  if (head === "table" || head === "entity" || head === "session" || head === "cuelist") return { view: head, arg, where, sort };
  const view = (VIEWS as readonly string[]).includes(head) ? (head as ViewName) : "scripts";
  return { view, arg: null, where, sort };
}

export function formatRoute(r: Route): string {
  const path = r.arg !== null ? `${r.view}/${encodeURIComponent(r.arg)}` : r.view;
  const p = new URLSearchParams();
  if (r.where) p.set("where", r.where);
  if (r.sort) {
    p.set("sort", r.sort.field);
    p.set("dir", r.sort.direction);
  }
  const s = p.toString();
  return `#/${path}${s ? `?${s}` : ""}`;
}

export const route = signal<Route>(parseRoute(location.hash));
addEventListener("hashchange", () => (route.value = parseRoute(location.hash)));

export function go(r: Partial<Route> & Pick<Route, "view">): void {
  const next: Route = { arg: null, where: "", sort: null, ...r };
  // At once, not at the hashchange event: navigate requests arriving together build on each other.
  route.value = next;
  location.hash = formatRoute(next);
}

/** The last table shown: `ui.navigate.filter/sort` act on it when the console is elsewhere. */
let lastTable: string | null = null;
export function rememberTable(name: string): void {
  lastTable = name;
}

function literal(v: unknown): string {
  if (typeof v === "string") return `'${v.replace(/'/g, "''")}'`;
  if (v === null || v === undefined) return "nil";
  return String(v);
}

/** A script's `ui.navigate.*`: every open console follows. */
export function navigateTo(action: string, target: unknown, direction?: string): void {
  const r = route.value;
  const table = r.view === "table" ? r.arg : lastTable;
  if (action === "to_entity" && typeof target === "string") return go({ view: "entity", arg: target });
  if (action === "to_view" && typeof target === "string") {
    if ((VIEWS as readonly string[]).includes(target)) return go({ view: target as ViewName });
    return go({ view: "table", arg: target });
  }
  if (action === "filter" && table) {
    const where =
      typeof target === "string"
        ? target
        : target !== null && typeof target === "object"
          ? Object.entries(target as Record<string, unknown>)
              .map(([k, v]) => `${k} == ${literal(v)}`)
              .join(" AND ")
          : "";
    return go({ view: "table", arg: table, where, sort: r.sort });
  }
  if (action === "sort" && table && typeof target === "string") {
    return go({ view: "table", arg: table, where: r.view === "table" ? r.where : "", sort: { field: target, direction: direction === "desc" ? "desc" : "asc" } });
  }
}
