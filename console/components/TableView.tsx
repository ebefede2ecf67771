/**
 * The show's tables: a list of them, and one table as a grid. Columns come
 * from the schema; rows are virtualised (only the visible ones are in the
 * page, so 10,000 scroll smoothly); the query bar takes the query language
 * and points at the column of an error; cells edit in place; changes from
 * peers and scripts land live from the event stream.
 */
import { useEffect, useMemo, useRef, useState } from "preact/hooks";
import type { EntityData, SchemaResult } from "../../protocol/light.ts";
import { RpcError } from "../../protocol/light.ts";
import { ask, call, changed, learnName, nameOf, schema } from "../store.ts";
import { go, rememberTable, route } from "../route.ts";
import { entityLabel, parseInput, showValue, shortField } from "../format.ts";

export function TablesView() {
  const sc = schema.value;
  const [counts, setCounts] = useState<Record<string, number>>({});
  useEffect(() => {
    if (!sc) return;
    for (const t of sc.tables) {
      ask("query", { expr: `table == '${t.name}'`, idsOnly: true, limit: 0 })
        .then((r) => setCounts((c) => ({ ...c, [t.name]: r.count })))
        .catch(() => undefined);
    }
  }, [sc, changed.value.structural ? changed.value.seq : 0]);
  return (
    <section class="pane">
      <h1>Workspace</h1>
      <ul class="list">
        {(sc?.tables ?? []).map((t) => (
          <li key={t.name}>
            <a class="row-link" href={`#/table/${encodeURIComponent(t.name)}`}>
              <strong>{t.name}</strong> <span class="muted">{counts[t.name] ?? "…"} rows · module {t.module}</span>
            </a>
          </li>
        ))}
      </ul>
    </section>
  );
}

export interface Column {
  key: string;
  label: string;
  type: string;
}

export function columnsOf(sc: SchemaResult | null, table: string): Column[] {
  const t = sc?.tables.find((x) => x.name === table);
  if (!sc || !t) return [];
  const out: Column[] = [];
  for (const f of t.facets) {
    const facet = sc.facets.find((x) => x.key === f || x.name === f || x.key.endsWith(`.${f}`));
    for (const d of facet?.fields ?? []) out.push({ key: d.key, label: d.name, type: d.type });
  }
  return out;
}

const ROW_HEIGHT = 36;
const OVERSCAN = 8;

export function TableGrid() {
  const r = route.value;
  const table = r.arg ?? "";
  rememberTable(table);
  const columns = useMemo(() => columnsOf(schema.value, table), [schema.value, table]);
  const prefix = `table == '${table.replace(/'/g, "''")}'`;
  const expr = `${prefix}${r.where ? ` AND (${r.where})` : ""}${r.sort ? ` ORDER BY ${r.sort.field} ${r.sort.direction === "desc" ? "DESC" : "ASC"}` : ""}`;
  // Only ids for the whole result; entities are fetched for the rows on screen.
  const [ids, setIds] = useState<string[] | null>(null);
  const cache = useRef(new Map<string, EntityData>());
  const inFlight = useRef(new Set<string>());
  const [, setVersion] = useState(0);
  const [error, setError] = useState<{ message: string; column: number | null } | null>(null);
  const [draft, setDraft] = useState(r.where);
  const [reload, setReload] = useState(0);
  useEffect(() => setDraft(r.where), [r.where, table]);

  useEffect(() => {
    let live = true;
    ask("query", { expr, idsOnly: true })
      .then((res) => {
        if (!live) return;
        setIds(res.ids);
        setError(null);
      })
      .catch((e: unknown) => {
        if (!live) return;
        const column = e instanceof RpcError && typeof e.data.details.column === "number" ? e.data.details.column : null;
        // The bar shows only the condition: move the column from the whole query onto it.
        const inBar = column !== null ? column - (prefix.length + " AND (".length) : null;
        setError({ message: e instanceof Error ? e.message : String(e), column: inBar !== null && inBar >= 1 && inBar <= r.where.length + 1 ? inBar : null });
        setIds([]);
      });
    return () => {
      live = false;
    };
  }, [expr, reload]);

  // Live: field changes patch the rows held; created/deleted entities (or a filtered/sorted view) re-run the query.
  useEffect(() => {
    const c = changed.value;
    if (c.seq === 0 || ids === null) return;
    let patched = false;
    for (const [id, fields] of c.fields) {
      const row = cache.current.get(id);
      if (row) {
        cache.current.set(id, { ...row, fields: { ...row.fields, ...fields } });
        patched = true;
      }
    }
    if (patched) setVersion((v) => v + 1);
    if (c.structural || ((r.sort || r.where) && c.fields.size > 0)) {
      for (const id of c.entities) cache.current.delete(id);
      setReload((n) => n + 1);
    }
  }, [changed.value.seq]);

  const want = (first: number, last: number): void => {
    const missing = (ids ?? []).slice(first, last).filter((id) => !cache.current.has(id) && !inFlight.current.has(id));
    if (missing.length === 0) return;
    for (const id of missing) inFlight.current.add(id);
    ask("entities.get", { ids: missing })
      .then((res) => {
        res.entities.forEach((e, k) => {
          if (e) cache.current.set(missing[k], e);
        });
        setVersion((v) => v + 1);
      })
      .catch(() => undefined)
      .finally(() => {
        for (const id of missing) inFlight.current.delete(id);
      });
  };

  const submit = (e: Event): void => {
    e.preventDefault();
    go({ view: "table", arg: table, where: draft.trim(), sort: r.sort });
  };
  const sortBy = (field: string): void => {
    const dir = r.sort?.field === shortField(field) && r.sort.direction === "asc" ? "desc" : "asc";
    go({ view: "table", arg: table, where: r.where, sort: { field: shortField(field), direction: dir } });
  };

  return (
    <section class="pane grid-pane" aria-label={`Table ${table}`}>
      <header class="grid-header">
        <h1>{table}</h1>
        <span class="muted" role="status" aria-label="row count">
          {ids === null ? "loading…" : `${ids.length} rows`}
        </span>
        <button
          class="right"
          onClick={() =>
            void call("entity.create", { tables: [table] })
              .then((res) => go({ view: "entity", arg: res.id }))
              .catch(() => undefined)
          }
        >
          New row
        </button>
      </header>
      <form class="query-bar" onSubmit={submit} role="search">
        <code class="muted">{prefix} AND</code>
        <input aria-label="Query" placeholder="status == 'standby' AND number > 10" value={draft} onInput={(e) => setDraft(e.currentTarget.value)} spellcheck={false} />
        <button type="submit">Filter</button>
      </form>
      {error ? (
        <div class="query-error" role="alert">
          {error.column !== null ? (
            <pre aria-label="Where the error is">
              {draft}
              {"\n"}
              {" ".repeat(error.column - 1)}^
            </pre>
          ) : null}
          {error.message}
        </div>
      ) : null}
      {ids !== null ? <VirtualRows ids={ids} row={(id) => cache.current.get(id)} want={want} columns={columns} onSort={sortBy} /> : null}
    </section>
  );
}

interface VirtualRowsProps {
  ids: string[];
  row: (id: string) => EntityData | undefined;
  /** Asks for the entities of rows first..last-1 (the window on screen, with some overscan). */
  want: (first: number, last: number) => void;
  columns: Column[];
  onSort: (field: string) => void;
}

function VirtualRows({ ids, row, want, columns, onSort }: VirtualRowsProps) {
  const box = useRef<HTMLDivElement>(null);
  const [top, setTop] = useState(0);
  const [height, setHeight] = useState(600);
  useEffect(() => {
    const el = box.current;
    if (!el) return;
    setHeight(el.clientHeight);
    const ro = new ResizeObserver(() => setHeight(el.clientHeight));
    ro.observe(el);
    return () => ro.disconnect();
  }, []);
  const first = Math.max(0, Math.floor(top / ROW_HEIGHT) - OVERSCAN);
  const last = Math.min(ids.length, Math.ceil((top + height) / ROW_HEIGHT) + OVERSCAN);
  useEffect(() => want(first, last), [first, last, ids]);
  const template = `minmax(9em, 1fr) ${columns.map(() => "minmax(7em, 1fr)").join(" ")} 7em`;
  return (
    <div class="grid" role="grid" aria-rowcount={ids.length + 1} aria-colcount={columns.length + 2}>
      <div class="grid-row grid-head" role="row" style={{ gridTemplateColumns: template }}>
        <div role="columnheader">entity</div>
        {columns.map((c) => (
          <div role="columnheader" key={c.key}>
            <button class="link" onClick={() => onSort(c.key)} title={`sort by ${c.label}`}>
              {c.label}
            </button>
          </div>
        ))}
        <div role="columnheader" />
      </div>
      <div class="grid-body" ref={box} onScroll={(e) => setTop(e.currentTarget.scrollTop)}>
        <div style={{ height: `${ids.length * ROW_HEIGHT}px`, position: "relative" }}>
          {ids.slice(first, last).map((id, i) => {
            const entity = row(id);
            const index = first + i;
            return entity ? (
              <GridRow key={id} row={entity} columns={columns} index={index} template={template} />
            ) : (
              <div key={id} class="grid-row loading" role="row" aria-rowindex={index + 2} style={{ top: `${index * ROW_HEIGHT}px`, gridTemplateColumns: template }}>
                <div role="gridcell" class="muted">
                  …
                </div>
              </div>
            );
          })}
        </div>
      </div>
    </div>
  );
}

function GridRow({ row, columns, index, template }: { row: EntityData; columns: Column[]; index: number; template: string }) {
  const [confirming, setConfirming] = useState(false);
  const label = entityLabel(row.id, row.fields);
  learnName(row.id, label);
  return (
    <div class="grid-row" role="row" aria-rowindex={index + 2} data-entity={row.id} style={{ top: `${index * ROW_HEIGHT}px`, gridTemplateColumns: template }}>
      <div role="gridcell">
        <a href={`#/entity/${encodeURIComponent(row.id)}`} title={row.id}>
          {label === row.id ? row.id.slice(-8) : label}
        </a>
      </div>
      {columns.map((c) => (
        <Cell key={c.key} id={row.id} column={c} value={row.fields[c.key]} />
      ))}
      <div role="gridcell">
        <button
          class={confirming ? "danger small" : "small"}
          aria-label={confirming ? `Confirm delete ${label}` : `Delete ${label}`}
          onBlur={() => setConfirming(false)}
          onClick={() => {
            if (!confirming) return setConfirming(true);
            void call("entity.delete", { id: row.id }).catch(() => undefined);
          }}
        >
          {confirming ? "Really delete" : "Delete"}
        </button>
      </div>
    </div>
  );
}

export function Cell({ id, column, value }: { id: string; column: Column; value: EntityData["fields"][string] | undefined }) {
  const [editing, setEditing] = useState(false);
  const [text, setText] = useState("");
  const start = (): void => {
    setText(value === null || value === undefined ? "" : typeof value === "string" ? value : JSON.stringify(value));
    setEditing(true);
  };
  const save = (): void => {
    setEditing(false);
    void call("entity.set", { id, field: column.key, value: parseInput(text, column.type) }).catch(() => undefined);
  };
  if (editing) {
    return (
      <div role="gridcell" class="cell editing">
        <input
          autoFocus
          aria-label={`${column.label} of ${id}`}
          value={text}
          onInput={(e) => setText(e.currentTarget.value)}
          onBlur={() => setEditing(false)}
          onKeyDown={(e) => {
            if (e.key === "Enter") save();
            if (e.key === "Escape") setEditing(false);
          }}
        />
      </div>
    );
  }
  return (
    <div
      role="gridcell"
      class="cell"
      tabIndex={0}
      data-field={column.label}
      aria-label={`${column.label}: ${showValue(value)}`}
      onDblClick={start}
      onKeyDown={(e) => {
        if (e.key === "Enter" || e.key === "F2") start();
      }}
    >
      {column.type === "ref" && typeof value === "string" ? <a href={`#/entity/${encodeURIComponent(value)}`}>{nameOf(value)}</a> : showValue(value)}
    </div>
  );
}
