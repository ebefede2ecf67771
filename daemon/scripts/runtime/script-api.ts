/**
 * Every function a script sees (beyond the engine's core.await/sleep/race), with how it is
 * called. The worker side installs each in Lua; the main side serves each as `rt.<path>`.
 * Shared by both threads: keep it plain data.
 */
export interface ApiFunction {
  path: string;
  /** sync: returns a value; async: returns a future for core.await; event: fire and forget. */
  kind: "sync" | "async" | "event";
  /** An unhandled failure follows the script's on_error (skip / abort / prompt). */
  guarded: boolean;
}

const sync = (path: string, guarded = false): ApiFunction => ({ path, kind: "sync", guarded });
const event = (path: string): ApiFunction => ({ path, kind: "event", guarded: false });
const async = (path: string): ApiFunction => ({ path, kind: "async", guarded: false });

export const SCRIPT_API: readonly ApiFunction[] = [
  sync("core.query"),
  sync("core.query_one"),
  sync("core.query_live"),
  sync("core.get_field"),
  sync("core.schema.list_tables"),
  sync("core.schema.get_fields"),
  sync("core.create_entity", true),
  sync("core.set_field", true),
  sync("core.delete_entity", true),
  sync("core.add_to_table", true),
  sync("core.remove_from_table", true),
  sync("core.attach_facet", true),
  sync("core.detach_facet", true),
  sync("core.create_edge", true),
  sync("core.delete_edge", true),
  sync("core.text.insert_at", true),
  sync("core.text.delete_range", true),
  sync("core.text.replace_range", true),
  sync("core.list.insert", true),
  sync("core.list.append", true),
  sync("core.list.remove", true),
  sync("core.list.remove_at", true),
  sync("core.create_ordered_edge", true),
  sync("core.move_ordered_edge", true),
  sync("core.query_ordered_edges"),
  sync("core.merge_entities", true),
  sync("core.split_entity", true),
  sync("core.commit"),
  sync("core.discard"),
  sync("core.overlay.operations"),
  sync("core.get_conflicts"),
  sync("core.resolve_conflict", true),
  sync("context.hlc_time"),
  event("log.debug"),
  event("log.info"),
  event("log.warn"),
  event("log.error"),
  event("ui.toast"),
  event("ui.toast.warn"),
  event("ui.toast.error"),
  event("ui.progress.start"),
  event("ui.progress.update"),
  event("ui.progress.complete"),
  event("ui.navigate.to_view"),
  event("ui.navigate.to_entity"),
  event("ui.navigate.filter"),
  event("ui.navigate.sort"),
  async("ui.dialog.confirm"),
  async("ui.dialog.prompt"),
  async("ui.dialog.select"),
];

/** Name of the main-thread binding serving `path`. */
export const hostName = (path: string): string => `rt.${path}`;

/** Worker → main: a batch of set_field calls already validated in the worker: [entity, field key, value]. */
export const OPS_BATCH = "rt.ops";
/** Worker → main: facets of an entity the worker has not seen yet. */
export const FACETS_OF = "rt.facets";
