/**
 * Cue lists: the ordered edges of one type pointing at one entity, as a list
 * reordered by drag and drop (or Alt+↑/↓). A move is one bundle: the edge's
 * MoveOrderedEdge and, when the cues carry an `order_index`, its new value
 * between its neighbours', so triggers watching the order (the spec's
 * renumber) run exactly as for a person, and their sessions wait for review.
 */
import { useEffect, useState } from "preact/hooks";
import type { EdgeState, EntityView, FieldValue, Operation } from "../../protocol/light.ts";
import { ask, call, changed, learnName, schema, sessions } from "../store.ts";
import { route } from "../route.ts";
import { entityLabel, showValue, shortField } from "../format.ts";

export function CueListsView() {
  const sc = schema.value;
  const ordered = (sc?.edgeTypes ?? []).filter((e) => e.ordered);
  const tables = sc?.tables ?? [];
  const [type, setType] = useState<string>("");
  const [table, setTable] = useState<string>("");
  const edgeType = type || ordered[0]?.name || "";
  const holder = table || tables.find((t) => t.name === "scenes")?.name || tables[0]?.name || "";
  const [holders, setHolders] = useState<EntityView[]>([]);
  useEffect(() => {
    if (!holder) return;
    ask("query", { expr: `table == '${holder}'`, limit: 200 })
      .then((r) => setHolders(r.entities ?? []))
      .catch(() => setHolders([]));
  }, [holder]);
  return (
    <section class="pane">
      <h1>Cue lists</h1>
      <div class="row">
        <label>
          List type{" "}
          <select value={edgeType} onChange={(e) => setType(e.currentTarget.value)}>
            {ordered.map((e) => (
              <option key={e.name}>{e.name}</option>
            ))}
          </select>
        </label>
        <label>
          Lists held by{" "}
          <select value={holder} onChange={(e) => setTable(e.currentTarget.value)}>
            {tables.map((t) => (
              <option key={t.name}>{t.name}</option>
            ))}
          </select>
        </label>
      </div>
      <ul class="list">
        {holders.map((h) => (
          <li key={h.id}>
            <a class="row-link" href={`#/cuelist/${encodeURIComponent(`${h.id}|${edgeType}`)}`}>
              {entityLabel(h.id, h.fields)}
            </a>
          </li>
        ))}
      </ul>
    </section>
  );
}

interface CueRow {
  edge: EdgeState;
  cue: EntityView | null;
}

function orderKey(fields: Record<string, FieldValue> | undefined): string | null {
  return Object.keys(fields ?? {}).find((k) => k === "order_index" || k.endsWith(".order_index")) ?? null;
}

/** The order_index that puts a cue between two neighbours (either may be missing). */
function between(before: FieldValue | undefined, after: FieldValue | undefined): number {
  const a = typeof before === "number" ? before : null;
  const b = typeof after === "number" ? after : null;
  if (a !== null && b !== null) return (a + b) / 2;
  if (a !== null) return a + 1;
  if (b !== null) return b - 1;
  return 0;
}

export function CueList() {
  const [target, type] = (route.value.arg ?? "|").split("|");
  const [rows, setRows] = useState<CueRow[]>([]);
  const [dragging, setDragging] = useState<number | null>(null);
  const [over, setOver] = useState<number | null>(null);
  const [holderName, setHolderName] = useState(target);
  const [sessionsBefore] = useState(() => new Set(sessions.value.map((s) => s.id)));
  const load = async (): Promise<void> => {
    const { edges } = await ask("edges.ordered", { target, type });
    const cues = await Promise.all(edges.map((e) => ask("get", { id: e.source }).then((r) => ("entity" in r ? r.entity : null), () => null)));
    setRows(edges.map((edge, i) => ({ edge, cue: cues[i] })));
    for (const c of cues) if (c) learnName(c.id, entityLabel(c.id, c.fields));
  };
  useEffect(() => {
    void load().catch(() => setRows([]));
    ask("get", { id: target })
      .then((r) => "entity" in r && setHolderName(entityLabel(target, r.entity.fields)))
      .catch(() => undefined);
  }, [target, type, changed.value.seq]);

  const move = async (from: number, to: number): Promise<void> => {
    if (from === to || from < 0 || to < 0 || to >= rows.length) return;
    const rest = rows.filter((_, i) => i !== from);
    const moving = rows[from];
    const prev = rest[to - 1];
    const next = rest[to];
    const ops: Operation[] = [{ op: "MoveOrderedEdge", edgeId: moving.edge.id, ...(prev ? { after: prev.edge.id } : next ? { before: next.edge.id } : {}) }];
    const key = orderKey(moving.cue?.fields);
    if (key && moving.cue) ops.push({ op: "SetField", id: moving.cue.id, field: key, value: between(prev?.cue?.fields[key], next?.cue?.fields[key]) });
    setRows([...rest.slice(0, to), moving, ...rest.slice(to)]);
    await call("apply", { ops }).catch(() => void load());
  };

  const fresh = sessions.value.filter((s) => !sessionsBefore.has(s.id));
  const columns = rows[0]?.cue ? Object.keys(rows[0].cue.fields).filter((k) => !k.endsWith(".order_index") && !k.endsWith(".scene")).slice(0, 4) : [];
  return (
    <section class="pane cue-list" aria-label={`Cue list ${holderName}`}>
      <h1>
        {holderName} <span class="muted small">{type}</span>
      </h1>
      <p class="muted">Drag a cue to move it, or focus it and press Alt+↑ / Alt+↓.</p>
      {fresh.map((s) => (
        <p class="notice" role="status" key={s.id}>
          {s.script} made {s.ops} change(s) after the move: <a href={`#/session/${encodeURIComponent(s.id)}`}>review the session</a>
        </p>
      ))}
      <ol class="cues" aria-label="Cues in running order">
        {rows.map((r, i) => (
          <li
            key={r.edge.id}
            class={`cue${dragging === i ? " dragging" : ""}${over === i ? " over" : ""}`}
            draggable
            tabIndex={0}
            data-cue={r.cue ? entityLabel(r.cue.id, r.cue.fields) : r.edge.source}
            onDragStart={(e) => {
              setDragging(i);
              e.dataTransfer?.setData("text/plain", String(i));
            }}
            onDragOver={(e) => {
              e.preventDefault();
              setOver(i);
            }}
            onDragEnd={() => {
              setDragging(null);
              setOver(null);
            }}
            onDrop={(e) => {
              e.preventDefault();
              const from = Number(e.dataTransfer?.getData("text/plain") ?? dragging);
              setDragging(null);
              setOver(null);
              void move(from, i);
            }}
            onKeyDown={(e) => {
              if (e.altKey && e.key === "ArrowUp") void move(i, i - 1);
              if (e.altKey && e.key === "ArrowDown") void move(i, i + 1);
            }}
          >
            <span class="handle" aria-hidden="true">
              ⠿
            </span>
            <span class="cue-pos">{i + 1}</span>
            {r.cue ? (
              <a href={`#/entity/${encodeURIComponent(r.cue.id)}`}>{entityLabel(r.cue.id, r.cue.fields)}</a>
            ) : (
              <span>{r.edge.source}</span>
            )}
            {columns.map((k) => (
              <span key={k} class="muted small">
                {shortField(k)} {showValue(r.cue?.fields[k])}
              </span>
            ))}
          </li>
        ))}
      </ol>
    </section>
  );
}
