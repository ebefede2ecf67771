/** Scripts' `ui.toast` (and the console's own errors), warn/error styled, in every open console. */
import { dismissToast, toasts } from "../store.ts";

export function Toasts() {
  return (
    <div class="toasts" role="status" aria-live="polite">
      {toasts.value.map((t) => (
        <div key={t.id} class={`toast toast-${t.level}`}>
          <span class="toast-source">{t.source}</span>
          <span class="toast-message">{t.message}</span>
          <button class="icon" aria-label="Dismiss" onClick={() => dismissToast(t.id)}>
            ×
          </button>
        </div>
      ))}
    </div>
  );
}
