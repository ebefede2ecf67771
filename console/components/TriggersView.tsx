/** Triggers: what each watches and runs, its firings, and each firing's trace as steps (change → condition → scope → run → outcome). */
import { useEffect, useState } from "preact/hooks";
import type { TriggerSummary, TriggerTrace } from "../../protocol/light.ts";
import { ask, nameOf, triggers } from "../store.ts";
import { clock, showValue, shortField } from "../format.ts";
import type { FieldValue } from "../../protocol/light.ts";

export function TriggersView() {
  const [open, setOpen] = useState<string | null>(null);
  return (
    <section class="split">
      <div class="pane">
        <h1>Triggers</h1>
        <ul class="catalog">
          {triggers.value.map((t) => (
            <li key={t.name}>
              <button class={`catalog-item${open === t.name ? " selected" : ""}`} aria-pressed={open === t.name} onClick={() => setOpen(t.name)}>
                <span class="catalog-name">{t.name}</span>
                <TriggerLine trigger={t} />
              </button>
            </li>
          ))}
        </ul>
      </div>
      <div class="pane wide">{open ? <TraceList key={open} trigger={open} /> : <p class="muted">Choose a trigger to see its traces.</p>}</div>
    </section>
  );
}

function TriggerLine({ trigger: t }: { trigger: TriggerSummary }) {
  if (t.status === "rejected") return <span class="error-text small">rejected: {t.error}</span>;
  return (
    <span class="muted small">
      watches {t.watches}
      {t.when ? ` when ${t.when}` : ""}
      {t.scope ? ` · scope ${t.scope}` : ""} · runs {t.script} ({t.mode}) · fired {t.fired}
      {t.pending ? ` · ${t.pending} pending` : ""}
    </span>
  );
}

function TraceList({ trigger }: { trigger: string }) {
  const [traces, setTraces] = useState<TriggerTrace[]>([]);
  const fired = triggers.value.find((t) => t.name === trigger)?.fired ?? 0;
  useEffect(() => {
    ask("triggers.traces", { trigger, limit: 20 })
      .then((r) => setTraces([...r.traces].sort((a, b) => b.seq - a.seq)))
      .catch(() => setTraces([]));
  }, [trigger, fired]);
  return (
    <div>
      <h2>Traces of {trigger}</h2>
      {traces.length === 0 ? <p class="muted">It has not fired since the daemon started.</p> : null}
      {traces.map((t) => (
        <TraceSteps key={t.seq} trace={t} />
      ))}
    </div>
  );
}

function TraceSteps({ trace: t }: { trace: TriggerTrace }) {
  const steps: { name: string; text: string; ok: boolean | null }[] = [
    { name: "Change", text: `${nameOf(t.entity)} ${shortField(t.field)}: ${showValue(t.oldValue as FieldValue)} → ${showValue(t.newValue as FieldValue)} (${t.origin})`, ok: true },
    { name: "Condition", text: t.condition === null ? "none" : t.condition ? "true" : "false", ok: t.condition !== false },
    { name: "Scope", text: t.scope ? `${t.scope.edgeType} → ${t.scope.entity ? nameOf(t.scope.entity) : "nowhere"}${t.scope.note ? ` (${t.scope.note})` : ""}` : "none", ok: t.scope ? t.scope.entity !== null : null },
    { name: "Run", text: t.runId ? `${t.runId} with ${JSON.stringify(t.args ?? {})}` : (t.reason ?? "not run"), ok: t.runId !== null },
    { name: "Outcome", text: `${t.status}${t.runStatus ? ` (${t.runStatus})` : ""}${t.error ? `: ${t.error.type}: ${t.error.message}` : ""}`, ok: t.error === null && t.status !== "failed" && t.status !== "stopped" },
  ];
  return (
    <article class="card trace" aria-label={`Trace ${t.seq}`}>
      <header class="muted small">
        #{t.seq} at {clock(t.at)} · chain depth {t.chain.depth}
      </header>
      <ol class="steps">
        {steps.map((s) => (
          <li key={s.name} class={`step ${s.ok === false ? "step-bad" : s.ok ? "step-ok" : ""}`}>
            <span class="step-name">{s.name}</span> {s.text}
          </li>
        ))}
      </ol>
    </article>
  );
}
