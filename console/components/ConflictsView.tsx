/**
 * Open canonical conflicts: every competing value with its peer and time,
 * resolved by choosing one; a bulk conflict (one pair of change sets) is one
 * choice of side, with its conflicts listed on request.
 */
import { useState } from "preact/hooks";
import type { BulkConflict, ConflictRecord } from "../../protocol/light.ts";
import { call, conflicts, nameOf, status } from "../store.ts";
import { actorName, showValue, shortField } from "../format.ts";
import { hlcTime } from "../hlc-time.ts";

export function ConflictsView() {
  const { conflicts: list, bulk } = conflicts.value;
  const loose = list.filter((c) => !c.bulk);
  return (
    <section class="pane">
      <h1>Conflicts</h1>
      {list.length === 0 ? <p class="muted">No open conflicts: every peer agrees.</p> : null}
      {bulk.map((b) => (
        <BulkConflictCard key={b.id} bulk={b} members={list.filter((c) => c.bulk === b.id)} />
      ))}
      {loose.map((c) => (
        <ConflictCard key={c.id} conflict={c} />
      ))}
    </section>
  );
}

export function peerName(peer: string | null): string {
  if (peer === null) return "unknown peer";
  if (peer === status.value?.peerId) return "this peer";
  return `peer ${peer.slice(-8)}`;
}

export function ConflictCard({ conflict }: { conflict: ConflictRecord }) {
  return (
    <article class="card conflict" aria-label={`Conflict on ${nameOf(conflict.entity)} ${shortField(conflict.field)}`}>
      <header>
        <a href={`#/entity/${encodeURIComponent(conflict.entity)}`}>{nameOf(conflict.entity)}</a> · <span class="field">{shortField(conflict.field)}</span>{" "}
        <span class="muted small">({conflict.kind}; shown for now: {showValue(conflict.provisional)})</span>
      </header>
      <div class="values">
        {conflict.values.map((v) => (
          <button key={v.opId} class="side" onClick={() => void call("conflicts.resolve", { id: conflict.id, value: v.value }).catch(() => undefined)}>
            <span class="value">{showValue(v.value)}</span>
            <span class="muted small">
              {peerName(v.peer)} · {v.actor ? actorName(v.actor) : "?"} · {v.hlc ? hlcTime(v.hlc) : ""}
            </span>
            <span class="small">Keep this</span>
          </button>
        ))}
      </div>
    </article>
  );
}

function BulkConflictCard({ bulk, members }: { bulk: BulkConflict; members: ConflictRecord[] }) {
  const [open, setOpen] = useState(false);
  return (
    <article class="card conflict bulk" aria-label="Bulk conflict">
      <header>
        <strong>{bulk.count} conflicting changes</strong> between two sets of edits: one choice settles them all.
      </header>
      <div class="values">
        {bulk.sides.map((s) => (
          <button key={s.changeSet} class="side" onClick={() => void call("conflicts.resolveBulk", { id: bulk.id, keep: s.changeSet }).catch(() => undefined)}>
            <span class="value">Keep all from {peerName(s.peer)}</span>
            <span class="muted small">{s.actor ? actorName(s.actor) : ""}</span>
          </button>
        ))}
      </div>
      <button onClick={() => setOpen(!open)}>{open ? "Close" : "Open it up"}</button>
      {open ? members.slice(0, 200).map((c) => <ConflictCard key={c.id} conflict={c} />) : null}
    </article>
  );
}
