/** One entity: its fields (editable), tables, edges, open conflicts and history (when, who, which peer, what each bundle changed). */
import { useEffect, useState } from "preact/hooks";
import type { BundleChanges, BundleInfo, EdgeState, EntityView, FieldChange } from "../../protocol/light.ts";
import { ask, changed, conflicts, learnName, nameOf, schema } from "../store.ts";
import { route } from "../route.ts";
import { actorName, entityLabel, shortField, showValue } from "../format.ts";
import { hlcTime } from "../hlc-time.ts";
import { Cell } from "./TableView.tsx";
import type { Column } from "./TableView.tsx";
import { ConflictCard, peerName } from "./ConflictsView.tsx";

export function EntityPage() {
  const id = route.value.arg ?? "";
  const [entity, setEntity] = useState<EntityView | null>(null);
  const [edges, setEdges] = useState<EdgeState[]>([]);
  const [history, setHistory] = useState<(BundleInfo & Partial<BundleChanges>)[]>([]);
  const [missing, setMissing] = useState<string | null>(null);
  const touched = changed.value.entities.has(id) || changed.value.structural;
  useEffect(() => {
    let live = true;
    ask("get", { id })
      .then((r) => {
        if (!live || !("entity" in r)) return;
        setEntity(r.entity);
        setMissing(null);
        learnName(id, entityLabel(id, r.entity.fields));
      })
      .catch((e: unknown) => live && setMissing(e instanceof Error ? e.message : String(e)));
    ask("edges.list", { entity: id })
      .then((r) => live && setEdges(r.edges))
      .catch(() => undefined);
    ask("history", { entity: id, limit: 30, changes: true })
      .then((r) => live && setHistory(r.bundles))
      .catch(() => undefined);
    return () => {
      live = false;
    };
  }, [id, touched ? changed.value.seq : 0]);

  if (missing) return <section class="pane"><p class="query-error" role="alert">{missing}</p></section>;
  if (!entity) return <section class="pane">Loading…</section>;
  const types = new Map((schema.value?.facets ?? []).flatMap((f) => f.fields.map((d) => [d.key, d.type] as const)));
  const keys = Object.keys(entity.fields).sort();
  const open = conflicts.value.conflicts.filter((c) => c.entity === id);
  return (
    <section class="pane entity-page" aria-label={`Entity ${entityLabel(id, entity.fields)}`}>
      <h1>
        {entityLabel(id, entity.fields)} <span class="muted small">{id}</span>
      </h1>
      <p class="muted">
        Tables: {Object.keys(entity.tables).join(", ") || "none"} · Facets: {entity.facets.join(", ") || "none"}
      </p>
      <h2>Fields</h2>
      <div class="fields" role="grid">
        {keys.map((k) => {
          const col: Column = { key: k, label: shortField(k), type: types.get(k) ?? "string" };
          return (
            <div class="field-row" role="row" key={k}>
              <div role="rowheader" class="field" title={k}>
                {col.label}
              </div>
              <Cell id={id} column={col} value={entity.fields[k]} />
            </div>
          );
        })}
      </div>
      {open.length ? (
        <>
          <h2>Conflicts</h2>
          {open.map((c) => (
            <ConflictCard key={c.id} conflict={c} />
          ))}
        </>
      ) : null}
      <h2>Edges</h2>
      {edges.length === 0 ? <p class="muted">None.</p> : null}
      <ul class="list">
        {edges.map((e) => {
          const other = e.source === id ? e.target : e.source;
          return (
            <li key={e.id}>
              {e.source === id ? "→" : "←"} <span class="field">{e.type}</span> <a href={`#/entity/${encodeURIComponent(other)}`}>{nameOf(other)}</a>
              {e.position !== null && e.source === id ? (
                <a class="small" href={`#/cuelist/${encodeURIComponent(`${e.target}|${e.type}`)}`}>
                  {" "}
                  (open the list)
                </a>
              ) : null}
            </li>
          );
        })}
      </ul>
      <h2>History</h2>
      <table class="history">
        <thead>
          <tr>
            <th>When</th>
            <th>Who</th>
            <th>Peer</th>
            <th>What</th>
          </tr>
        </thead>
        <tbody>
          {history.map((b) => (
            <tr key={b.hash}>
              <td>{hlcTime(b.meta.hlc)}</td>
              <td>{actorName(b.meta.actor)}</td>
              <td>{peerName(b.meta.peer)}</td>
              <td>
                <BundleChangeList changes={b.changes ?? []} more={b.more ?? 0} />
                <span class="muted small">
                  {b.meta.ops} operation(s)
                  {typeof b.meta.origin?.script === "string" ? ` by script ${b.meta.origin.script}` : ""}
                </span>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}

/** Changes shown per bundle: a script's bundle may touch hundreds of entities. */
const SHOWN_CHANGES = 12;

/** What one bundle changed, a line each: entity, then `field: old → new` (or what happened to it). */
function BundleChangeList({ changes, more }: { changes: FieldChange[]; more: number }) {
  const hidden = Math.max(0, changes.length - SHOWN_CHANGES) + more;
  return (
    <ul class="bundle-changes" aria-label="Changes">
      {changes.slice(0, SHOWN_CHANGES).map((c, i) => (
        <li key={i} class="change">
          <ChangeLine change={c} />
        </li>
      ))}
      {hidden > 0 ? <li class="muted small">… and {hidden} more change(s)</li> : null}
    </ul>
  );
}

function ChangeLine({ change: c }: { change: FieldChange }) {
  switch (c.kind) {
    case "field":
      return (
        <>
          {nameOf(c.entity)} · <span class="field">{shortField(c.field)}</span>: <del>{showValue(c.oldValue)}</del> → <ins>{showValue(c.newValue)}</ins>
        </>
      );
    case "table":
      return (
        <>
          {nameOf(c.entity)} · {c.newValue ? "added to" : "removed from"} table {c.field}
        </>
      );
    case "edge": {
      // An edge change carries the edge (type and ends) as its value.
      const v = (c.newValue ?? c.oldValue) as { type?: string; source?: string; target?: string } | null;
      return (
        <>
          edge <span class="field">{v?.type ?? ""}</span> {nameOf(v?.source ?? null)} → {nameOf(v?.target ?? null)}: {c.field}
        </>
      );
    }
    default:
      return (
        <>
          {nameOf(c.entity)} · {c.kind} {c.field}
        </>
      );
  }
}
