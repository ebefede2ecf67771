/** A run's `ui.progress`: label, bar, count. */
import type { ProgressView } from "../store.ts";

export function ProgressBar({ progress }: { progress: ProgressView }) {
  const pct = progress.total ? Math.min(100, Math.round((progress.current / progress.total) * 100)) : progress.done ? 100 : null;
  return (
    <div class="progress" role="progressbar" aria-label={progress.label || "progress"} aria-valuemin={0} aria-valuemax={progress.total ?? undefined} aria-valuenow={progress.current}>
      <div class="progress-label">
        {progress.label} {progress.total ? `${progress.current} / ${progress.total}` : progress.current}
        {progress.done ? " — done" : ""}
      </div>
      <div class="progress-track">
        <div class={`progress-fill${pct === null ? " indeterminate" : ""}`} style={{ width: `${pct ?? 30}%` }} />
      </div>
    </div>
  );
}
