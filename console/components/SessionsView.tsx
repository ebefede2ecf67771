/**
 * Sessions waiting for review, and one session's review: its overlay as a
 * diff grouped by entity (by name; `field: old → new`; created entities
 * with their values; deletions), commit or discard, and a commit's
 * conflicts side by side (keep script / keep canonical, or a bulk choice).
 */
import { useEffect, useState } from "preact/hooks";
import type { CommitResult, FieldValue, SessionChange, SessionConflict, SessionInfo } from "../../protocol/light.ts";
import { call, nameOf, refreshSessions, sessions } from "../store.ts";
import { go, route } from "../route.ts";
import { actorName, entityLabel, showValue, shortField } from "../format.ts";

export function SessionsView() {
  if (route.value.view === "session" && route.value.arg) return <SessionReview key={route.value.arg} id={route.value.arg} />;
  return (
    <section class="pane">
      <h1>Sessions waiting for review</h1>
      {sessions.value.length === 0 ? <p class="muted">No open sessions: every script's changes are committed or discarded.</p> : null}
      <ul class="list">
        {sessions.value.map((s) => (
          <SessionRow key={s.id} session={s} />
        ))}
      </ul>
    </section>
  );
}

function SessionRow({ session }: { session: SessionInfo }) {
  return (
    <li>
      <a class="row-link" href={`#/session/${encodeURIComponent(session.id)}`}>
        <strong>{session.script}</strong> <span class="muted">{session.ops} change(s)</span>
        {session.conflicts ? <span class="pill pill-error">{session.conflicts} conflict(s)</span> : null}
        <span class="muted small"> {session.id}</span>
      </a>
    </li>
  );
}

interface Loaded {
  info: SessionInfo;
  changes: SessionChange[];
}

interface EntityGroup {
  entity: string | null;
  label: string;
  created: boolean;
  deleted: boolean;
  changes: SessionChange[];
}

/** Groups the overlay's changes by entity, in the order they were made. */
function groupByEntity(changes: SessionChange[]): EntityGroup[] {
  const groups = new Map<string, EntityGroup>();
  for (const c of changes) {
    const key = c.entity ?? "(workspace)";
    let g = groups.get(key);
    if (!g) {
      g = { entity: c.entity, label: key, created: false, deleted: false, changes: [] };
      groups.set(key, g);
    }
    if (c.op === "CreateEntity") {
      g.created = true;
      if (c.new && typeof c.new === "object" && !Array.isArray(c.new)) g.label = entityLabel(key, c.new as Record<string, FieldValue>);
    }
    if (c.op === "DeleteEntity") g.deleted = true;
    g.changes.push(c);
  }
  return [...groups.values()];
}

function SessionReview({ id }: { id: string }) {
  const [loaded, setLoaded] = useState<Loaded | null>(null);
  const [gone, setGone] = useState<string | null>(null);
  const [conflicts, setConflicts] = useState<{ list: SessionConflict[]; bulk: boolean } | null>(null);
  const load = async (): Promise<void> => {
    try {
      const r = await call("sessions.get", { id });
      setLoaded({ info: r, changes: r.changes });
    } catch {
      setGone(`session ${id} is no longer open`);
    }
  };
  useEffect(() => {
    void load();
  }, [id]);
  // Another console may commit or discard it: follow.
  useEffect(() => {
    if (loaded && !sessions.value.some((s) => s.id === id)) setGone((g) => g ?? `session ${id} was committed or discarded`);
  }, [sessions.value]);

  const onCommit = (r: CommitResult): void => {
    if (r.status === "committed") {
      setGone(`committed: ${r.ops} change(s) are now in the show`);
      void refreshSessions();
    } else setConflicts({ list: r.conflicts, bulk: r.bulk });
  };

  if (gone) {
    return (
      <section class="pane">
        <h1>Session review</h1>
        <p class="notice" role="status">
          {gone}
        </p>
        <button onClick={() => go({ view: "sessions" })}>Back to sessions</button>
      </section>
    );
  }
  if (!loaded) return <section class="pane">Loading session…</section>;
  const groups = groupByEntity(loaded.changes);
  return (
    <section class="pane session-review" aria-label="Session review">
      <h1>
        Review: {loaded.info.script} <span class="muted small">{id}</span>
      </h1>
      <p class="muted">
        {loaded.info.ops} change(s) to {groups.length} entit{groups.length === 1 ? "y" : "ies"}, isolation {loaded.info.isolation}. Nothing here is in the show until you commit.
      </p>
      <div class="actions sticky">
        <button class="primary" onClick={() => void call("sessions.commit", { id }).then(onCommit, () => undefined)}>
          Commit {loaded.info.ops} change(s)
        </button>
        <button class="danger" onClick={() => void call("sessions.discard", { id }).then(() => setGone("discarded: the show is unchanged"), () => undefined)}>
          Discard
        </button>
      </div>
      {conflicts ? <CommitConflicts id={id} conflicts={conflicts.list} bulk={conflicts.bulk} onResolved={() => setConflicts(null)} onCommit={onCommit} /> : null}
      <div class="diff">
        {groups.map((g) => (
          <EntityDiff key={g.label + g.entity} group={g} />
        ))}
      </div>
    </section>
  );
}

function EntityDiff({ group }: { group: EntityGroup }) {
  const title = group.created ? group.label : nameOf(group.entity);
  return (
    <article class={`card entity-diff${group.created ? " created" : ""}${group.deleted ? " deleted" : ""}`} aria-label={`Changes to ${title}`}>
      <header>
        <strong>{title}</strong>
        {group.created ? <span class="pill pill-ok">new</span> : null}
        {group.deleted ? <span class="pill pill-error">deleted</span> : null}
      </header>
      <ul>
        {group.changes.map((c, i) => (
          <li key={i} class="change">
            {c.op === "SetField" ? (
              <>
                <span class="field">{shortField(c.field ?? "")}</span>: <del>{showValue(c.old)}</del> → <ins>{showValue(c.new)}</ins>
              </>
            ) : c.op === "CreateEntity" && c.new && typeof c.new === "object" && !Array.isArray(c.new) ? (
              Object.entries(c.new).map(([k, v]) => (
                <div key={k}>
                  <span class="field">{shortField(k)}</span>: <ins>{showValue(v)}</ins>
                </div>
              ))
            ) : (
              <span class="muted">{c.summary}</span>
            )}
          </li>
        ))}
      </ul>
    </article>
  );
}

function CommitConflicts(props: { id: string; conflicts: SessionConflict[]; bulk: boolean; onResolved: () => void; onCommit: (r: CommitResult) => void }) {
  const { id } = props;
  const [open, setOpen] = useState(!props.bulk);
  const [chosen, setChosen] = useState<Record<string, string>>({});
  const resolve = async (conflictId: string, choice: "script" | "canonical"): Promise<void> => {
    await call("sessions.resolve", { id, conflictId, choice });
    setChosen({ ...chosen, [conflictId]: choice });
  };
  const bulk = async (choice: "script" | "canonical"): Promise<void> => {
    await call("sessions.resolveBulk", { id, choice });
    setChosen(Object.fromEntries(props.conflicts.map((c) => [c.id, choice])));
  };
  const done = props.conflicts.every((c) => chosen[c.id] !== undefined || c.resolution !== undefined);
  return (
    <div class="card conflicts-panel" role="region" aria-label="Commit conflicts">
      <h2>
        {props.conflicts.length} change(s) clash with edits made since the script started
      </h2>
      <p class="muted">For each, keep what the script wrote or what the show holds now. Nothing is committed until every one is decided.</p>
      <div class="actions">
        <button onClick={() => void bulk("script").catch(() => undefined)}>Keep script for all</button>
        <button onClick={() => void bulk("canonical").catch(() => undefined)}>Keep canonical for all</button>
        {props.bulk ? <button onClick={() => setOpen(!open)}>{open ? "Hide each conflict" : "Open it up: decide each"}</button> : null}
      </div>
      {open
        ? props.conflicts.map((c) => (
            <div key={c.id} class="side-by-side" aria-label={`Conflict on ${shortField(c.field)}`}>
              <div class="side-title">
                {nameOf(c.entity)} · <span class="field">{shortField(c.field)}</span>
                {c.entityDeleted ? <span class="pill pill-error">entity deleted</span> : null}
              </div>
              <button class={`side${(chosen[c.id] ?? c.resolution) === "script" ? " chosen" : ""}`} onClick={() => void resolve(c.id, "script").catch(() => undefined)}>
                <span class="muted small">Keep script</span>
                <span class="value">{showValue(c.scriptValue)}</span>
              </button>
              <button class={`side${(chosen[c.id] ?? c.resolution) === "canonical" ? " chosen" : ""}`} onClick={() => void resolve(c.id, "canonical").catch(() => undefined)}>
                <span class="muted small">Keep canonical{c.changedBy ? ` (${actorName(c.changedBy.actor)})` : ""}</span>
                <span class="value">{showValue(c.canonicalValue)}</span>
              </button>
            </div>
          ))
        : null}
      <div class="actions">
        <button class="primary" disabled={!done} onClick={() => void call("sessions.commit", { id }).then(props.onCommit, () => undefined)}>
          Commit with these choices
        </button>
      </div>
    </div>
  );
}
