/**
 * fs.watch in a test: watchers of the scratch show hear of sim.fs.write / sim.fs.remove and of
 * scripts' own fs.write at once, from here, not from a file watcher on the disk, so a test
 * waits no real time for them. A watcher waiting for its next event is its run gone quiet.
 */
import type { FileWatcherOptions, FsEvent, FsSeams, Watcher } from "../../scripts/fs/index.ts";
import type { RunQuiet } from "./quiet.ts";

class SimWatcher implements Watcher {
  private readonly queue: FsEvent[] = [];
  private readonly waiting: ((e: FsEvent | null) => void)[] = [];
  private closed = false;

  constructor(private readonly net: SimFileWatch, readonly opts: FileWatcherOptions, readonly runId: string) {}

  async start(): Promise<void> {
    this.net.watchers.add(this);
  }

  next(): Promise<FsEvent | null> {
    const e = this.queue.shift();
    if (e) return Promise.resolve(e);
    if (this.closed) return Promise.resolve(null);
    return new Promise((resolve) => {
      this.waiting.push(resolve);
      this.net.quiet.quiet(this.runId);
    });
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.net.watchers.delete(this);
    for (const w of this.waiting.splice(0)) w(null);
  }

  /** True when `rel` is the watched file or inside the watched folder, and the script may see it. */
  covers(rel: string): boolean {
    const at = this.opts.rel;
    return (at === "" || rel === at || rel.startsWith(`${at}/`)) && this.opts.visible(rel);
  }

  deliver(e: FsEvent): void {
    const w = this.waiting.shift();
    if (w) return w({ ...e });
    const last = this.queue[this.queue.length - 1];
    if (last && last.type === e.type && last.path === e.path) return;
    this.queue.push({ ...e });
  }
}

export class SimFileWatch {
  readonly watchers = new Set<SimWatcher>();
  constructor(readonly quiet: RunQuiet) {}

  /** The fs seams of one run. */
  seamsFor(runId: string): FsSeams {
    return {
      watch: (o) => new SimWatcher(this, o, runId),
      written: (e) => void this.changed(e),
    };
  }

  /** A file of the scratch show changed: every watcher that covers it hears it; the runs that did. */
  changed(e: FsEvent): string[] {
    const runs = new Set<string>();
    for (const w of [...this.watchers]) {
      if (!w.covers(e.path)) continue;
      w.deliver(e);
      runs.add(w.runId);
    }
    return [...runs];
  }
}
