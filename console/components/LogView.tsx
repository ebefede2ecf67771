/** The daemon's live log, filtered by level. */
import { useState } from "preact/hooks";
import { logLines } from "../store.ts";

const LEVELS = ["debug", "info", "warn", "error"] as const;

export function LogView() {
  const [min, setMin] = useState<(typeof LEVELS)[number]>("info");
  const floor = LEVELS.indexOf(min);
  const lines = logLines.value.filter((l) => LEVELS.indexOf(l.level as (typeof LEVELS)[number]) >= floor);
  return (
    <section class="pane">
      <h1>Log</h1>
      <label>
        Level at least{" "}
        <select value={min} onChange={(e) => setMin(e.currentTarget.value as (typeof LEVELS)[number])}>
          {LEVELS.map((l) => (
            <option key={l}>{l}</option>
          ))}
        </select>
      </label>
      <ol class="run-log tall" aria-label="Daemon log">
        {lines
          .slice(-300)
          .reverse()
          .map((l, i) => (
            <li key={i} class={`log-${l.level}`}>
              <span class="muted small">{new Date(l.time).toLocaleTimeString()}</span> <span class="level">{l.level}</span> {l.msg}
            </li>
          ))}
      </ol>
    </section>
  );
}
