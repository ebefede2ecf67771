/**
 * How a server stops, whatever carries its connections (the Unix socket, the console's
 * WebSockets): let the requests already running finish for up to `graceMs`, ask every
 * connection to close, and cut the ones still open half a second later.
 */
export interface Draining<C> {
  inFlight: ReadonlySet<Promise<unknown>>;
  connections: ReadonlySet<C>;
  /** Resolves once the listening server has closed (started before draining). */
  closed: Promise<void>;
  end(c: C): void;
  destroy(c: C): void;
}

const HARD_CLOSE_MS = 500;

/** Keeps a request in `inFlight` until it settles, so a stop can wait for it; its failure is the request's to report. */
export function trackIn(inFlight: Set<Promise<unknown>>): (run: Promise<unknown>) => void {
  return (run) => {
    inFlight.add(run);
    void run.finally(() => inFlight.delete(run)).catch(() => undefined);
  };
}

export async function drain<C>(d: Draining<C>, graceMs: number, afterEnd?: () => void): Promise<void> {
  if (d.inFlight.size > 0) {
    await Promise.race([Promise.allSettled([...d.inFlight]), new Promise((r) => setTimeout(r, graceMs).unref())]);
  }
  for (const c of d.connections) d.end(c);
  const hard = setTimeout(() => {
    for (const c of d.connections) d.destroy(c);
  }, HARD_CLOSE_MS);
  hard.unref();
  afterEnd?.();
  await d.closed;
  clearTimeout(hard);
}
