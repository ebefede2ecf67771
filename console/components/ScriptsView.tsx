/** The script catalog, a run form for the chosen script, and live panels for its runs. */
import { useState } from "preact/hooks";
import type { FieldValue, ScriptArgSpec, ScriptInfo } from "../../protocol/light.ts";
import { call, runs, scripts } from "../store.ts";
import type { RunView } from "../store.ts";
import { go } from "../route.ts";
import { ProgressBar } from "./ProgressBar.tsx";

export function ScriptsView() {
  const [selected, setSelected] = useState<string | null>(null);
  const list = scripts.value;
  const script = list.find((s) => s.id === selected) ?? null;
  return (
    <section class="split">
      <div class="pane">
        <h1>Scripts</h1>
        <ScriptCatalog scripts={list} selected={selected} onSelect={setSelected} />
      </div>
      <div class="pane wide">
        {script ? <RunForm key={script.id} script={script} /> : <p class="muted">Choose a script to run it.</p>}
        <h2>Runs</h2>
        {runs.value.length === 0 ? <p class="muted">No runs since this console opened.</p> : null}
        {runs.value.slice(0, 8).map((r) => (
          <RunPanel key={r.runId} run={r} />
        ))}
      </div>
    </section>
  );
}

function ScriptCatalog({ scripts: list, selected, onSelect }: { scripts: ScriptInfo[]; selected: string | null; onSelect: (id: string) => void }) {
  return (
    <ul class="catalog" aria-label="Script catalog">
      {list.map((s) => (
        <li key={s.id}>
          <button class={`catalog-item${selected === s.id ? " selected" : ""}`} aria-pressed={selected === s.id} onClick={() => onSelect(s.id)}>
            <span class="catalog-name">{s.id}</span>
            {s.description ? <span class="catalog-description">{s.description}</span> : null}
            <span class="muted small">
              {s.mode ?? "manual"} · {s.executionMode ?? "session"}
              {s.module ? ` · module ${s.module}` : ""}
            </span>
            {s.args?.length ? <span class="muted small">args: {s.args.map((a) => `${a.name} (${a.type})`).join(", ")}</span> : null}
            {s.capabilities.length ? <span class="muted small">may: {s.capabilities.join(", ")}</span> : null}
            {s.error ? <span class="error-text small">{s.error}</span> : null}
          </button>
        </li>
      ))}
    </ul>
  );
}

interface ArgRow {
  key: string;
  value: string;
}

/** Free key/value rows as typed values (numbers, booleans, else text): for a script that declares no args. */
function freeArgs(rows: readonly ArgRow[]): Record<string, string | number | boolean> {
  const args: Record<string, string | number | boolean> = {};
  for (const r of rows) {
    if (!r.key.trim()) continue;
    const v = r.value.trim();
    args[r.key.trim()] = v === "true" ? true : v === "false" ? false : v !== "" && !Number.isNaN(Number(v)) ? Number(v) : r.value;
  }
  return args;
}

/**
 * Declared args as typed in the form. Text goes as text: the daemon converts it to the declared
 * type and names what is wrong (one rule, checkScriptArgs). An empty one is left out, so the
 * daemon fills its default or says it is missing. JSON is parsed here, since text is valid JSON-typed input too.
 */
function declaredArgs(specs: readonly ScriptArgSpec[], values: Readonly<Record<string, string>>): Record<string, FieldValue> {
  const args: Record<string, FieldValue> = {};
  for (const a of specs) {
    const v = values[a.name] ?? "";
    if (v.trim() === "") continue;
    if (a.type !== "json") args[a.name] = v;
    else {
      try {
        args[a.name] = JSON.parse(v) as FieldValue;
      } catch {
        throw new Error(`argument ${a.name}: not valid JSON (${v})`);
      }
    }
  }
  return args;
}

function RunForm({ script }: { script: ScriptInfo }) {
  const specs = script.args ?? [];
  const [rows, setRows] = useState<ArgRow[]>([{ key: "", value: "" }]);
  const [values, setValues] = useState<Record<string, string>>({});
  const [problem, setProblem] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const run = async (): Promise<void> => {
    let args: Record<string, FieldValue>;
    try {
      args = specs.length ? declaredArgs(specs, values) : freeArgs(rows);
    } catch (e) {
      setProblem(e instanceof Error ? e.message : String(e));
      return;
    }
    setProblem(null);
    setBusy(true);
    try {
      if (script.mode === "background") await call("scripts.start", { script: script.id, args });
      else await call("scripts.run", { script: script.id, args, wait: false });
    } catch {
      // shown as a toast
    } finally {
      setBusy(false);
    }
  };
  return (
    <form
      class="card run-form"
      aria-label={`Run ${script.id}`}
      onSubmit={(e) => {
        e.preventDefault();
        void run();
      }}
    >
      <h2>{script.id}</h2>
      {script.description ? <p class="script-description">{script.description}</p> : null}
      <dl class="facts">
        <dt>File</dt>
        <dd>{script.file || "—"}</dd>
        <dt>Mode</dt>
        <dd>
          {script.mode ?? "manual"}, {script.executionMode ?? "session"}, isolation {script.isolation ?? "snapshot"}, on error {script.onError ?? "skip"}
        </dd>
        <dt>Capabilities</dt>
        <dd>{script.capabilities.length ? script.capabilities.map((c) => <code key={c}>{c}</code>) : "none"}</dd>
      </dl>
      <fieldset>
        <legend>Arguments</legend>
        {specs.length ? (
          specs.map((a) => (
            <div class="arg-row declared" key={a.name}>
              <label class="arg-name" for={`arg-${a.name}`}>
                {a.name} <span class="muted small">{a.type}</span>
              </label>
              <ArgInput spec={a} value={values[a.name] ?? ""} onChange={(v) => setValues({ ...values, [a.name]: v })} />
              <span class="muted small arg-help">
                {[a.help, a.default !== undefined ? `default ${JSON.stringify(a.default)}` : a.required ? "required" : "optional"].filter(Boolean).join(" · ")}
              </span>
            </div>
          ))
        ) : (
          <>
            <p class="muted small">This script declares no arguments ([script.{script.id}.args]); any given are passed as they are.</p>
            {rows.map((r, i) => (
              <div class="arg-row" key={i}>
                <input
                  aria-label={`argument ${i + 1} name`}
                  placeholder="name"
                  value={r.key}
                  onInput={(e) => setRows(rows.map((x, j) => (j === i ? { ...x, key: e.currentTarget.value } : x)))}
                />
                <input
                  aria-label={`argument ${i + 1} value`}
                  placeholder="value"
                  value={r.value}
                  onInput={(e) => setRows(rows.map((x, j) => (j === i ? { ...x, value: e.currentTarget.value } : x)))}
                />
              </div>
            ))}
            <button type="button" onClick={() => setRows([...rows, { key: "", value: "" }])}>
              Add argument
            </button>
          </>
        )}
      </fieldset>
      {problem ? (
        <p class="error-text" role="alert">
          {problem}
        </p>
      ) : null}
      <div class="actions">
        <button type="submit" class="primary" disabled={busy}>
          {script.mode === "background" ? "Start" : "Run"} {script.id}
        </button>
      </div>
    </form>
  );
}

/** One declared argument's input, by its type; the default shows as the placeholder (left empty, the daemon fills it). */
function ArgInput({ spec, value, onChange }: { spec: ScriptArgSpec; value: string; onChange: (v: string) => void }) {
  const id = `arg-${spec.name}`;
  const placeholder = spec.default !== undefined ? `default ${JSON.stringify(spec.default)}` : spec.type === "entity" ? "entity id" : spec.type;
  if (spec.type === "bool") {
    return (
      <select id={id} value={value} onChange={(e) => onChange(e.currentTarget.value)}>
        <option value="">{spec.default !== undefined ? `default (${JSON.stringify(spec.default)})` : "—"}</option>
        <option value="true">true</option>
        <option value="false">false</option>
      </select>
    );
  }
  // Text, not type=number: the daemon's check (one rule) says what is wrong with "2.5" for an int.
  return (
    <input
      id={id}
      inputMode={spec.type === "int" ? "numeric" : spec.type === "float" ? "decimal" : undefined}
      required={spec.required && spec.default === undefined}
      placeholder={placeholder}
      value={value}
      onInput={(e) => onChange(e.currentTarget.value)}
    />
  );
}

function RunPanel({ run }: { run: RunView }) {
  return (
    <article class={`card run run-${run.status}`} aria-label={`Run of ${run.script}`}>
      <header>
        <strong>{run.script}</strong> <span class={`pill pill-${run.status}`}>{run.status}</span>
        <span class="muted small"> {run.runId}</span>
        {run.status === "running" ? (
          <button class="right danger" onClick={() => void call("runs.cancel", { target: run.runId }).catch(() => undefined)}>
            Cancel
          </button>
        ) : null}
        {run.sessionId && run.status !== "running" ? (
          <button class="right" onClick={() => go({ view: "session", arg: run.sessionId })}>
            Review session
          </button>
        ) : null}
      </header>
      {run.progress ? <ProgressBar progress={run.progress} /> : null}
      <ol class="run-log" aria-label="Run log">
        {run.log.slice(-12).map((l, i) => (
          <li key={i} class={`log-${l.level}`}>
            <span class="level">{l.level}</span> {l.msg}
          </li>
        ))}
      </ol>
    </article>
  );
}
