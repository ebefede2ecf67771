/** Background scripts: state, restarts and last error, with start / stop / restart. */
import { background, call, scripts } from "../store.ts";
import { clock } from "../format.ts";

export function BackgroundView() {
  const known = new Map(background.value.map((b) => [b.id, b]));
  const ids = [...new Set([...scripts.value.filter((s) => s.mode === "background").map((s) => s.id), ...known.keys()])].sort();
  return (
    <section class="pane">
      <h1>Background scripts</h1>
      {ids.length === 0 ? <p class="muted">No background scripts in this show.</p> : null}
      <table class="history">
        <thead>
          <tr>
            <th>Script</th>
            <th>State</th>
            <th>Since</th>
            <th>Restarts</th>
            <th>Last error</th>
            <th />
          </tr>
        </thead>
        <tbody>
          {ids.map((id) => {
            const b = known.get(id);
            const state = b?.state ?? "stopped";
            return (
              <tr key={id}>
                <td>{id}</td>
                <td>
                  <span class={`pill pill-${state}`}>{state}</span>
                </td>
                <td>{b ? clock(b.since) : "—"}</td>
                <td>{b?.restarts ?? 0}</td>
                <td class="error-text small">{b?.lastError ? `${b.lastError.type}: ${b.lastError.message}` : ""}</td>
                <td class="actions">
                  <button disabled={state === "running"} onClick={() => void call("scripts.start", { script: id }).catch(() => undefined)}>
                    Start
                  </button>
                  <button disabled={state === "stopped"} onClick={() => void call("scripts.stop", { script: id }).catch(() => undefined)}>
                    Stop
                  </button>
                  <button onClick={() => void call("scripts.restart", { script: id }).catch(() => undefined)}>Restart</button>
                </td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </section>
  );
}
