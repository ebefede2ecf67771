/**
 * When a run the test fed has done with it: the run went quiet once it waits for input again
 * (a recv() found nothing queued), sleeps, or ended. The test's sim.* calls and clock.advance
 * return then, so what follows them sees the run's effects, without real waiting.
 */

/**
 * The longest (real ms) a fed run may take to go quiet before the test goes on anyway: it
 * awaits something that tells nobody (a dialog, a query of a slow store).
 */
export const QUIET_GRACE_MS = 2000;

export class RunQuiet {
  private readonly waiters = new Map<string, Set<() => void>>();
  private readonly anyWaiters = new Set<() => void>();

  /** The run waits for input, sleeps or ended. */
  quiet(runId: string): void {
    const set = this.waiters.get(runId);
    this.waiters.delete(runId);
    for (const f of set ?? []) f();
    for (const f of [...this.anyWaiters]) f();
    this.anyWaiters.clear();
  }

  /** Resolves when `runId` (or any run, for null) next goes quiet, or after graceMs. */
  until(runId: string | null, graceMs = QUIET_GRACE_MS): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, graceMs);
      function done(): void {
        clearTimeout(timer);
        resolve();
      }
      if (runId === null) this.anyWaiters.add(done);
      else {
        let set = this.waiters.get(runId);
        if (!set) this.waiters.set(runId, (set = new Set()));
        set.add(done);
      }
    });
  }
}
