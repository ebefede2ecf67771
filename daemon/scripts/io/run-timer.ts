/**
 * The timers of a run's I/O (recv/accept timeouts, an HTTP server's answer deadline): real
 * ones live, the test's virtual clock in openprod test (IoSeams.timer).
 */

/**
 * `wait`: the run is blocked on it (a recv(timeout) with nothing queued), so a test waiting
 * for the run may let it elapse at once. `deadline`: it runs beside the run's work (504 after
 * the script took too long) and fires only when time really reaches it.
 */
export type TimerKind = "wait" | "deadline";

/** Calls `fn` once `ms` of the run's time passed; the result cancels it. */
export type RunTimer = (ms: number, fn: () => void, kind: TimerKind) => () => void;

/** Node's timers; a deadline is unref'd (a request left pending never keeps the process up). */
export const realTimer: RunTimer = (ms, fn, kind) => {
  const t = setTimeout(fn, ms);
  if (kind === "deadline") t.unref();
  return () => clearTimeout(t);
};
